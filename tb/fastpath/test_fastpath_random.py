"""Random programs on the fast path (host/fastsim.py: the Verilated rtl/cnn_core.v, ports only) against
the golden model: random valid networks that train bit-exactly, random malformed descriptor tables
that get the code golden.desc_check predicts, and resets at random cycles inside training steps.

  test_random_nets        RANDOM_NETS random valid nets (golden.random_programs.random_valid_net:
                          1..3 convs, relu / sigmoid / maxpool, 0..2 hidden dense, both heads, batch
                          1..4), alternately on a P = 8 and a P = 4 core; each NET_STEPS training steps
                          on random inputs and labels, the result packets and every weight compared with
                          golden.fixed_model after every step, then an inference start on 2 samples
  test_malformed_tables   MALFORMED_TABLES random malformed tables (random_programs.random_malformed)
                          on one core whose whole WMEM holds random codes: after each start STATUS
                          carries exactly desc_check.check's code (0: validation passed and the core
                          takes the first sample beat), the run ends within its cycle budget (never
                          hangs), and no weight changes (a random 64-word window after every table,
                          the whole WMEM every 1,000 tables and at the end). A mutant twin (codes 3
                          and 4 in the wrong priority) must disagree with the RTL somewhere.
  test_random_resets      RESETS resets of the core at a random cycle inside a training step (A8,
                          P = 4, batches 1 and 3; a third of the cycles drawn inside the backward pass
                          and update). After each: STATUS and the registers at their reset values, the
                          descriptor table kept, every weight either its value before the step or
                          after it (docs/architecture.md section 6; all "before" when the reset came
                          before the first weight-changing phase); then the host reprograms (and, when
                          the weights are a mix, reloads the pre-step weights) and training goes on
                          bit-exact. The policy "a reset keeps the pre-step weights" (a mutant) must be
                          contradicted by some reset.
  test_random_net_mutant  one random net against a golden model with the lr code one too large:
                          must mismatch

Counts: `make sim` (NUM_SAMPLES >= 10,000) 200 nets, 10,000 tables, 100 resets; `make test` 12, 600,
12. Environment overrides: RANDOM_NETS, MALFORMED_TABLES, RESETS. Seeds: one per test (run_seed:
COCOTB_RANDOM_SEED or drawn, logged); every net, table and reset cycle is drawn from it, and each
net's own seed is logged with its layers, so a failure is reproducible alone. Reports: one JSON per
test and run (host/report.py).
"""
from __future__ import annotations

import copy
import os
import random

import numpy as np
import pytest

from golden import axil_regs as G
from golden import cycle_model, desc_check
from golden.data import load_for
from golden.random_programs import random_malformed, random_valid_net
from golden.spec import get_net
from host import report

# STATUS bits a code-0 table is checked on: busy, done, error and the code
CHECKED = (1 << G.ST_BUSY | 1 << G.ST_DONE | 1 << G.ST_ERROR | 0xFF << G.ST_CODE_LSB)
from host.core import Core
from host.fastsim import FastSim
from host.session import Session, input_codes

NET_STEPS = 5


def full() -> bool:
    """`make sim` (NUM_SAMPLES >= 10,000) runs the full counts (conftest.full, by value: two
    conftest modules are on the path)."""
    return int(os.environ.get("NUM_SAMPLES", "10000")) >= 10000


def _count(env: str, long: int, short: int) -> int:
    v = os.environ.get(env)
    return int(v) if v else (long if full() else short)


def _describe(net) -> str:
    parts = [f"{l.kind}{l.n or ''}{'k' + str(l.k) if l.k else ''}" for l in net.layers]
    return (f"{net.input_shape} {' '.join(parts)} head={net.head} batch={net.batch} lr={net.lr}")


def _assert_clean(s: Session, what: str):
    st = s.stats
    assert st.mismatches == 0, f"{what}: {st.mismatches} mismatches; first: {st.first[:3]}"


# ----------------------------------------------------------------------------- random valid nets
def _random_data(net, rng: np.random.Generator, n: int):
    x = rng.random((n,) + tuple(net.input_shape))
    return input_codes(net, x), rng.integers(0, net.n_classes, n)


def test_random_nets(run_seed):
    n_nets = _count("RANDOM_NETS", 200, 12)
    top = random.Random(run_seed)
    done, steps, cycles, by_head, by_p = [], 0, 0, {}, {}
    for i in range(n_nets):
        p = 8 if i % 2 == 0 else 4
        seed = top.getrandbits(32)
        net = random_valid_net(seed, desc_check.CoreCfg(p=p), name=f"rand{i}")
        what = f"net {i} (P={p}, seed {seed}): {_describe(net)}"
        print(what)
        s = Session(net, P=p, sim="fast", seed=seed & 0xFFFF)
        rng = np.random.default_rng(seed)
        xs, ys = _random_data(net, rng, NET_STEPS * net.batch + 2)
        for k in range(NET_STEPS):
            sl = slice(k * net.batch, (k + 1) * net.batch)
            s.train_step(xs[sl], ys[sl])
            s.check_weights()
        s.infer(xs[-2:], ys[-2:])
        s.close()
        _assert_clean(s, what)
        assert s.stats.steps == NET_STEPS
        steps += s.stats.steps
        cycles += s.stats.sim_cycles
        by_head[net.head] = by_head.get(net.head, 0) + 1
        by_p[p] = by_p.get(p, 0) + 1
        done.append({"seed": seed, "P": p, "net": _describe(net)})
    report.write("fastpath_random_nets", {
        "nets": n_nets, "steps": steps, "sim_cycles": cycles, "mismatches": 0, "by_head": by_head,
        "by_P": by_p, "run_seed": run_seed, "nets_list": done})


def test_random_net_mutant(run_seed):
    """A golden model with the lr code one too large, on a random net: packets or weights must differ."""
    from golden.fixed_model import FixedNet

    class LrOffByOne(FixedNet):
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            self.lr_code += 1

    seed = random.Random(run_seed).getrandbits(32)
    net = random_valid_net(seed, desc_check.CoreCfg(p=8), name="rand_mutant")
    s = Session(net, P=8, sim="fast", seed=1, model_cls=LrOffByOne)
    xs, ys = _random_data(net, np.random.default_rng(seed), 3 * net.batch)
    for k in range(3):
        s.train_step(xs[k * net.batch:(k + 1) * net.batch], ys[k * net.batch:(k + 1) * net.batch])
        s.check_weights()
    s.close()
    assert s.stats.mismatches > 0, f"a mutant golden model went unnoticed on {_describe(net)}"


# ----------------------------------------------------------------------------- malformed tables
WMEM = 32768
BUDGET = 4000          # cycles: validation reads 4 words and checks per layer (16 layers at most)


def _mutant_check(words, nl, head, cfg):
    """desc_check.check with codes 3 and 4 in the wrong priority (a broken twin)."""
    saved = desc_check.PRIORITY
    desc_check.PRIORITY = (desc_check.ERR_OP, desc_check.ERR_GEOMETRY, desc_check.ERR_MAXIMUM,
                           desc_check.ERR_STRUCTURE)
    try:
        return desc_check.check(words, nl, head, cfg)
    finally:
        desc_check.PRIORITY = saved


def test_malformed_tables(run_seed):
    n_tables = _count("MALFORMED_TABLES", 10000, 600)
    cfg = desc_check.CoreCfg(p=8)
    r = random.Random(run_seed)
    npr = np.random.default_rng(run_seed)
    core = Core(FastSim(params={"P": 8}))
    core.reset()
    wimg = npr.integers(-32768, 32768, WMEM)
    core.load_weights(wimg)
    hist, wrong, mutant_wrong, resets, windows = {}, [], 0, 0, 0
    for t in range(n_tables):
        words, nl, head, exp = random_malformed(r, cfg)
        core.write_words(G.DESC_BASE, words, "write descriptor table")
        core.write(G.NUM_LAYERS, nl, "write NUM_LAYERS")
        core.write(G.HEAD, head, "write HEAD")
        core.set_batch(r.randint(1, 4))
        core.start(train=r.random() < 0.8)
        # one pixel beat without tlast: a table that passes has the core take it and wait for more
        rc, status, taken, _, _ = core.sim.run(np.zeros(1, np.uint16), np.zeros(1, np.uint8), 1, 64, BUDGET)
        if status & (1 << G.ST_ERROR):
            got = status >> G.ST_CODE_LSB & 0xFF
            ok = rc == 0 and taken == 0
        else:
            got = 0
            status = core.status()       # cc_run returns STATUS only once it shows done or error
            ok = rc == -1 and taken == 1 and status & CHECKED == 1 << G.ST_BUSY     # busy, no done, no error, no code
        hist[exp] = hist.get(exp, 0) + 1
        if got != exp or not ok:
            wrong.append(f"table {t}: core code {got} (rc {rc}, beats taken {taken}, STATUS 0x{status:08x}), "
                         f"golden desc_check {exp}; NUM_LAYERS {nl}, words {[hex(w) for w in words[:4 * max(nl, 1)]]}")
        if _mutant_check(words, nl, head, cfg) != got:
            mutant_wrong += 1
        if got == 0:
            core.reset()             # the step is waiting for its sample: abandon it
            resets += 1
        else:
            core.clear()
        a = r.randrange(WMEM - 64)
        back = core.read_weights(64, a)
        windows += 1
        if not np.array_equal(back, wimg[a:a + 64]):
            wrong.append(f"table {t}: weights {a}..{a + 63} changed")
        if (t + 1) % 1000 == 0 or t == n_tables - 1:
            bad = np.nonzero(core.read_weights(WMEM) != wimg)[0]
            if len(bad):
                wrong.append(f"after table {t}: {len(bad)} weights changed, first {int(bad[0])}")
        if len(wrong) >= 20:
            break
    core.sim.close()
    report.write("fastpath_malformed_tables", {
        "tables": n_tables, "codes": {str(k): v for k, v in sorted(hist.items())}, "mismatches": len(wrong),
        "mutant_disagreements": mutant_wrong, "resets": resets, "weight_windows": windows,
        "run_seed": run_seed, "first": wrong[:5]})
    assert not wrong, f"{len(wrong)} malformed tables went wrong (seed {run_seed}); first: {wrong[:3]}"
    assert set(hist) >= {0, 1, 2, 3, 4}, f"the draws missed some codes: {hist}"
    assert mutant_wrong > 0, "a mutant validation twin (codes 3 and 4 swapped) agreed with the RTL everywhere"


# ----------------------------------------------------------------------------- resets
def _weight_phase_start(net, p: int) -> int:
    """Cycles from the start of a step's run to the first cycle that can change a weight, minus a
    margin: batch 1 the first dW / dK / db phase of the sample, batch > 1 the final update pass."""
    c, h, w = net.input_shape
    load = c * h * w + 3
    ph = cycle_model.phases(net, p, True)
    if net.batch == 1:
        pre = 0
        for name, cy in ph:
            if name.endswith((".dw", ".dk", ".db")):
                break
            pre += cy
        return load + pre - 16
    return net.batch * (load + sum(cy for _, cy in ph)) - 16


def _step_cycles(net, p: int) -> int:
    c, h, w = net.input_shape
    per = c * h * w + 3 + cycle_model.total(net, p, True)
    upd = sum(cy for _, cy in cycle_model.update_phases(net, p)) if net.batch > 1 else 0
    return net.batch * per + upd


def test_random_resets(run_seed):
    n_resets = _count("RESETS", 100, 12)
    r = random.Random(run_seed)
    rc_regs = G.RegsConfig()
    kinds = {"old": 0, "new": 0, "mixed": 0}
    done, k_step = 0, 0
    for batch in (1, 3):
        net = get_net("A8", batch=batch)
        s = Session(net, P=4, sim="fast", seed=0)
        xtr, ytr, _, _ = load_for(net)
        xin = input_codes(net, xtr)
        order = np.random.default_rng(run_seed + batch).permutation(len(ytr))
        total, safe = _step_cycles(net, 4), _weight_phase_start(net, 4)
        target = n_resets // 2 if batch == 1 else n_resets - n_resets // 2
        resets = 0
        while resets < target:
            idx = order[(k_step * batch) % len(ytr):][:batch]
            if len(idx) < batch:
                idx = order[:batch]
            k_step += 1
            xs, ys = xin[idx], ytr[idx]
            if r.random() < 0.3:                       # an ordinary checked step in between
                s.train_step(xs, ys)
                continue
            stop = r.randint(safe, total) if r.random() < 1 / 3 else r.randint(1, total)
            fx_before, old = copy.deepcopy(s.fx), s.golden_wmem()
            s.fx.train_step(xs, ys)
            new = s.golden_wmem()
            res = s.core.train(xs, ys, cycles_per_sample=s.cyc_train, stop_after=stop)
            what = f"A8 batch {batch}, reset {resets} at cycle {stop} of ~{total} (seed {run_seed})"
            if not res.stopped:                        # the step finished first: nothing to reset
                s.fx = fx_before
                s.program()
                s.train_step(xs, ys)
                continue
            s.core.reset()
            resets += 1
            # registers and status after the reset
            for addr, exp, name in ((G.NUM_LAYERS, 0, "NUM_LAYERS"), (G.BATCH, rc_regs.batch_reset, "BATCH"),
                                    (G.LR, rc_regs.lr_reset, "LR"), (G.SEED, rc_regs.seed_reset, "SEED")):
                got = s.core.read(addr)
                assert got == exp, f"{what}: {name} = {got} after the reset, expected {exp}"
            st = s.core.status()
            assert st & 0xFF07 == 0, f"{what}: STATUS 0x{st:08x} after the reset (busy, done, error, code)"
            words = s.core.read_words(G.DESC_BASE, len(s.prog.words), "read descriptors")
            assert list(map(int, words)) == [int(w) & 0xFFFFFFFF for w in s.prog.words], \
                f"{what}: descriptor table not kept"
            got = s.core.read_weights(len(old))
            in_either = (got == old) | (got == new)
            assert in_either.all(), (f"{what}: {int((~in_either).sum())} weights neither before nor after the step, "
                                     f"first element {int(np.nonzero(~in_either)[0][0])}")
            if stop <= safe:
                assert np.array_equal(got, old), f"{what}: weights changed before the first weight phase"
            if np.array_equal(got, old):
                kind = "old"
            elif np.array_equal(got, new):
                kind = "new"
            else:
                kind = "mixed"
            kinds[kind] += 1
            # the host reprograms and goes on with what the policy says it has
            if kind == "new":
                s.program()                            # the step is in the weights: keep them and go on
            else:
                s.fx = fx_before
                s.program()
                if kind == "mixed":
                    s.core.load_weights(old)
                s.train_step(xs, ys)                   # the abandoned step again, checked
            s.check_weights()
            assert s.stats.mismatches == 0, f"{what}: after the reset: {s.stats.first[:3]}"
        # training goes on bit-exact after the last reset
        for _ in range(3):
            idx = order[(k_step * batch) % (len(ytr) - batch):][:batch]
            k_step += 1
            s.train_step(xin[idx], ytr[idx])
        s.check_weights()
        s.close()
        _assert_clean(s, f"A8 batch {batch} after {resets} resets")
        done += resets
    report.write("fastpath_random_resets", {"resets": done, "kept": kinds, "run_seed": run_seed,
                                            "mismatches": 0})
    assert done == n_resets
    # the mutant policy "a reset keeps the pre-step weights" must be contradicted
    assert kinds["new"] + kinds["mixed"] > 0, \
        f"no reset landed where it changes weights ({kinds}): the policy check has no teeth"

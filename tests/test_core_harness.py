"""Self-check of the cnn_core testbench's replay / compare logic (tb/cnn_core/core_replay.py), without a
simulator: the log a correct core would write (core_replay.synth_step_log, from golden traces, in
random P-lane chunks with random lane counts and garbage in the unused lanes) must give 0 mismatches,
and every kind of damage to it (or a broken golden model) must be caught by the right scoreboard."""
from __future__ import annotations

import copy
import json
import random
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tb" / "cnn_core"), str(ROOT / "tb"), str(ROOT)]

import core_replay as R  # noqa: E402
from golden.compiler import compile_net  # noqa: E402
from golden.data import digits  # noqa: E402
from golden.fixed_model import FixedNet  # noqa: E402
from golden.spec import NETS, get_net  # noqa: E402
from golden.trainer import epoch_order, initial_params  # noqa: E402

DEPTHS = (4096, 32768)


@pytest.fixture(scope="module")
def data():
    return {8: digits(8), 28: digits(28)}


def _batches(net, data, n, batch, start=0):
    xtr, ytr, _, _ = data[net.input_shape[1]]
    order = epoch_order(len(ytr), 0, 0)
    out = []
    for k in range(n):
        idx = order[start + k * batch:start + (k + 1) * batch]
        out.append(([R.input_codes(net, xtr[i]) for i in idx], [int(ytr[i]) for i in idx]))
    return out


def _plan(net, data, steps, batch, infer=2):
    """[(xs, ys, train)]: `steps` training steps then one inference run of `infer` samples."""
    plan = [(xs, ys, True) for xs, ys in _batches(net, data, steps, batch)]
    if infer:
        xs, ys = _batches(net, data, 1, infer, start=steps * batch)[0]
        plan.append((xs, ys, False))
    return plan


def _logs(net, p, plan, seed=1):
    """Per step: (log lines of a correct core, result packets) from an independent golden model."""
    _, params = initial_params(net, 0)
    gen = R.GoldenCore(net, params)
    rng = random.Random(seed)
    out = []
    for xs, ys, train in plan:
        st = gen.step(xs, ys, train)
        out.append((R.synth_step_log(st, net, p, rng, u_after_inference=rng.random() < 0.5),
                    [list(s.packet) for s in st.samples]))
    return out


def _check(net, p, plan, logs, model_cls=FixedNet, packets_hook=None):
    """Replay `logs` against a fresh golden model; -> the Checker (finished)."""
    _, params = initial_params(net, 0)
    golden = R.GoldenCore(net, params, model_cls)
    chk = R.Checker(net, p, *DEPTHS, record=False)
    chk.set_wmem(0, golden.wmem())
    for k, ((xs, ys, train), (lines, packets)) in enumerate(zip(plan, logs)):
        st = golden.step(xs, ys, train)
        chk.expect(st)
        chk.feed(lines)
        if packets_hook:
            packets = packets_hook(k, packets)
        chk.check_packets(st, packets)
    chk.data_errors, chk.cycle_errors = chk.finish()
    return chk


# ----------------------------------------------------------------------------- encoder, golden stepping
@pytest.mark.parametrize("name", list(NETS))
def test_encoder_matches_compiler(name):
    net = get_net(name)
    prog = compile_net(net)
    rp = R.encode_program(net.input_shape, net.layers, net.head)
    assert rp.words == prog.words
    assert rp.act_addr == prog.act_addr and rp.aux_addr == prog.aux_addr and rp.w_addr == prog.w_addr


@pytest.mark.parametrize("name,batch", [("A8", 3), ("B8", 2), ("B8", 1)])
def test_golden_core_is_train_step(data, name, batch):
    """GoldenCore.step (sample by sample) == FixedNet.train_step, traces and parameters."""
    net = get_net(name)
    _, params = initial_params(net, 0)
    ref = FixedNet(net, params)
    gc = R.GoldenCore(net, params)
    for xs, ys in _batches(net, data, 3, batch):
        trs = ref.train_step(xs, ys)
        st = gc.step(xs, ys, True)
        for tr, s in zip(trs, st.samples):
            assert all(np.array_equal(a, b) for a, b in zip(tr.outs, s.trace.outs))
            assert all(np.array_equal(tr.grads[i][0], s.trace.grads[i][0]) for i in tr.grads)
            assert tr.loss == s.trace.loss and tr.pred == s.trace.pred
        assert np.array_equal(st.wmem_after, gc.prog.weights_flat(ref.params))
    assert ref.lfsr.state == gc.fx.lfsr.state


# ----------------------------------------------------------------------------- clean logs
@pytest.mark.parametrize("name,p,batch,steps", [("A8", 4, 1, 3), ("A8", 4, 3, 2), ("B8", 2, 2, 2),
                                                ("B8", 8, 1, 3), ("A", 8, 1, 1), ("B", 8, 2, 1),
                                                ("C8", 4, 2, 2)])
def test_clean_log(data, name, p, batch, steps):
    net = get_net(name)
    plan = _plan(net, data, steps, batch)
    chk = _check(net, p, plan, _logs(net, p, plan))
    s = chk.summary()
    assert chk.data_errors == 0 and chk.cycle_errors == 0, s
    for board in ("act", "argmax", "delta", "grad", "wmem", "result", "protocol", "cycles"):
        if board == "argmax" and not any(l.kind == "maxpool" for l in net.layers):
            continue
        assert s[board]["checked"] > 0, board
    assert (s["gacc"]["checked"] > 0) == (batch > 1)
    assert len(chk.sample_log) == steps * batch + 2
    assert len(chk.update_log) == steps


# ----------------------------------------------------------------------------- damaged logs
NET, P, BATCH = "A8", 4, 2


@pytest.fixture(scope="module")
def base(data):
    net = get_net(NET)
    plan = _plan(net, data, 2, BATCH)
    return net, plan, _logs(net, P, plan, seed=7)


def _lines_of(logs, pred):
    return [(k, j) for k, (lines, _) in enumerate(logs) for j, ln in enumerate(lines) if pred(ln)]


def _flip_lane(line, lane, width, p=P):
    tag, addr, cnt, hx = line.split()
    v = int(hx, 16) ^ (1 << (lane * width))
    return f"{tag} {addr} {cnt} {format(v, f'0{len(hx)}x')}"


def _damage(kind, logs, rng):
    """-> damaged copy of logs (one change)."""
    logs = copy.deepcopy(logs)

    def pick(pred):
        return rng.choice(_lines_of(logs, pred))

    def sub(k, j, new):
        logs[k][0][j] = new

    wd = {"A": 16, "D": 16, "W": 16, "G": 24, "g": 24, "I": 2}
    if kind.startswith("lane "):              # flip a bit of a written lane
        tag = kind.split()[1]
        k, j = pick(lambda ln, t=tag: ln.startswith(t + " "))
        ln = logs[k][0][j]
        n = min(int(ln.split()[2]), P)
        sub(k, j, _flip_lane(ln, rng.randrange(n), wd[tag]))
    elif kind == "garbage lane":              # a lane past the count: must NOT matter
        k, j = pick(lambda ln: ln.startswith("A ") and int(ln.split()[2]) < P)
        ln = logs[k][0][j]
        sub(k, j, _flip_lane(ln, P - 1, 16))
    elif kind == "count short":
        k, j = pick(lambda ln: ln.startswith("A ") and 1 < int(ln.split()[2]) <= P)
        t, a, c, h = logs[k][0][j].split()
        sub(k, j, f"{t} {a} {int(c) - 1} {h}")
    elif kind == "address +1":
        k, j = pick(lambda ln: ln.startswith("D "))
        t, a, c, h = logs[k][0][j].split()
        sub(k, j, f"{t} {int(a) + 1} {c} {h}")
    elif kind == "tap dropped":
        k, j = pick(lambda ln: ln.startswith("g "))
        del logs[k][0][j]
    elif kind == "tap twice":
        k, j = pick(lambda ln: ln.startswith("g "))
        logs[k][0].insert(j, logs[k][0][j])
    elif kind == "early update":              # batch > 1: an update-pass W write moved before the samples
        net = get_net(NET)
        old = R.GoldenCore(net, initial_params(net, 0)[1]).wmem()
        lines = logs[0][0]
        last_s = max(j for j, ln in enumerate(lines) if ln == "S")

        def changes(ln):
            _, a, c, h = ln.split()
            vals = R.parse_line(ln, P, R.lane_widths(net))[3]
            return any(v != old[int(a) + q] for q, v in enumerate(vals))
        j = rng.choice([j for j, ln in enumerate(lines) if j > last_s and ln.startswith("W ") and changes(ln)])
        lines.insert(0, lines.pop(j))
    elif kind == "S dropped":
        k, j = pick(lambda ln: ln == "S")
        del logs[k][0][j]
    elif kind == "U dropped":
        k, j = rng.choice([(k, j) for k, (lines, _) in enumerate(logs) if k < 2
                           for j, ln in enumerate(lines) if ln == "U"])
        del logs[k][0][j]
    elif kind == "extra U":
        logs[0][0].insert(1, "U")
    elif kind == "cycles +1":
        k, j = pick(lambda ln: ln.startswith("P ") and not ln.startswith("P 18 ") and not ln.startswith("P 17 "))
        t, c, l, cyc = logs[k][0][j].split()
        sub(k, j, f"{t} {c} {l} {int(cyc) + 1}")
    elif kind == "phase missing":
        k, j = pick(lambda ln: ln.startswith("P 14 "))
        del logs[k][0][j]
    elif kind == "X line":
        logs[1][0].insert(5, "X gtap_valid")
    elif kind == "X data":
        k, j = pick(lambda ln: ln.startswith("A "))
        t, a, c, h = logs[k][0][j].split()
        sub(k, j, f"{t} {a} {c} {'x' * len(h)}")
    elif kind == "out of range":
        logs[0][0].insert(3, f"A {DEPTHS[0] - 2} 4 {'0' * 16}")
    elif kind == "packet loss":
        logs[1][1][0][-1] ^= 1
    elif kind == "packet short":
        logs[2][1][1].pop()
    elif kind == "packet missing":
        logs[0][1].pop()
    else:
        raise ValueError(kind)
    return logs


DAMAGE = {           # kind -> scoreboard that must see it
    "lane A": "act", "lane I": "argmax", "lane D": "delta", "lane g": "grad", "lane G": "gacc",
    "lane W": "wmem", "count short": "act", "address +1": "delta", "tap dropped": "grad",
    "tap twice": "protocol", "early update": "wmem", "S dropped": "protocol", "U dropped": "protocol",
    "extra U": "protocol", "cycles +1": "cycles", "phase missing": "cycles", "X line": "protocol",
    "X data": "act", "out of range": "protocol", "packet loss": "result", "packet short": "result",
    "packet missing": "result",
}


@pytest.mark.parametrize("kind", list(DAMAGE))
def test_damage_is_caught(base, kind):
    net, plan, logs = base
    chk = _check(net, P, plan, _damage(kind, logs, random.Random(zlib.crc32(kind.encode()))))
    s = chk.summary()
    assert s[DAMAGE[kind]]["errors"] > 0, (kind, s)
    if DAMAGE[kind] == "cycles":
        assert chk.data_errors == 0 and chk.cycle_errors > 0
    else:
        assert chk.data_errors > 0


def test_lanes_past_count_are_ignored(base):
    net, plan, logs = base
    for seed in range(5):
        chk = _check(net, P, plan, _damage("garbage lane", logs, random.Random(seed)))
        assert chk.data_errors == 0 and chk.cycle_errors == 0


def test_mutant_golden_is_caught(base):
    """The same clean log against a golden model with the lr code one too large."""
    net, plan, logs = base
    chk = _check(net, P, plan, logs, model_cls=R.LrOffByOne)
    s = chk.summary()
    assert s["wmem"]["errors"] > 0 and s["act"]["errors"] > 0
    assert any("WMEM L" in t for t in s["wmem"]["first"])


def test_aborted_step_is_discarded(data):
    """Reset mid-step: the aborted step's partial log is replayed without checks, then all is clean."""
    net = get_net(NET)
    plan = _plan(net, data, 3, 1, infer=0)
    logs = _logs(net, P, [plan[0], plan[2]])            # the generator never ran plan[1]
    _, params = initial_params(net, 0)
    ahead = R.GoldenCore(net, params)
    ahead.step(*plan[0][:2], True)
    partial = R.synth_step_log(ahead.step(*plan[1][:2], True), net, P, random.Random(3))
    partial = partial[:len(partial) // 3]               # cut in the forward pass
    golden = R.GoldenCore(net, params)
    chk = R.Checker(net, P, *DEPTHS, record=False)
    chk.set_wmem(0, golden.wmem())
    st = golden.step(*plan[0][:2], True)
    chk.expect(st)
    chk.feed(logs[0][0])
    chk.abort()
    chk.feed(partial)
    chk.resume()
    st = golden.step(*plan[2][:2], True)
    chk.expect(st)
    chk.feed(logs[1][0])
    chk.check_packets(st, logs[1][1])
    assert chk.finish() == (0, 0), chk.summary()


# ----------------------------------------------------------------------------- parsing, reader, programs, report
def test_parse_line():
    w = R.lane_widths(get_net("A8"))
    assert R.parse_line("A 12 2 0001ffff", 2, w) == ("w", "A", 12, [-1, 1])
    assert R.parse_line("A 12 9 0001ffff", 2, w) == ("w", "A", 12, [-1, 1])      # count >= P: all lanes
    assert R.parse_line("G 0 1 800000000001", 2, w) == ("w", "G", 0, [1])
    assert R.parse_line("G 0 2 800000000001", 2, w) == ("w", "G", 0, [1, -(1 << 23)])
    assert R.parse_line("I 3 4 e4", 4, w) == ("w", "I", 3, [0, 1, 2, 3])
    assert R.parse_line("A 0 2 xxxx0005", 2, w) == ("w", "A", 0, [5, R.XVAL])
    assert R.parse_line("I 0 2 x", 2, w) == ("w", "I", 0, [R.XVAL, R.XVAL])
    assert R.parse_line("P 9 5 1234", 2, w) == ("P", 9, 5, 1234)
    assert R.parse_line("S", 2, w) == ("S",) and R.parse_line("U", 2, w) == ("U",)
    for bad in ("A x 2 0000", "P 1 x 3", "Q 1 2 3", "X ph_end", "A 1 2"):
        assert R.parse_line(bad, 2, w)[0] == "bad", bad
    assert R.phase_name(9, 5) == "L5.dense.dw" and R.phase_name(6, 0) == "head.softmax"
    assert R.phase_name(18, 0) == "load" and R.phase_name(17, 3) == "L3.update"


def test_log_reader(tmp_path):
    f = tmp_path / "log.txt"
    f.write_text("old line\n")
    rd = R.LogReader(f, from_end=True)
    with open(f, "a") as fh:
        fh.write("S\nA 1 2 00")
    assert rd.read() == ["S"]
    with open(f, "a") as fh:
        fh.write("010002\nU\n")
    assert rd.read() == ["A 1 2 00010002", "U"]
    assert rd.read() == []


@pytest.mark.parametrize("name", list(NETS))
def test_malformed_programs(name):
    net = get_net(name)
    good = compile_net(net).words
    bad = R.malformed_programs(net, *DEPTHS, 16)
    assert {m.code for m in bad} == {R.ERR_OP, R.ERR_GEOMETRY, R.ERR_MAXIMUM, R.ERR_STRUCTURE}
    for m in bad:
        if m.num_layers:
            assert m.words != good and len(m.words) == 4 * m.num_layers, m.name
        else:
            assert m.code == R.ERR_STRUCTURE
    relu_first = next(m for m in bad if m.name == "first layer relu")
    assert relu_first.words[0] & 0xF == 3 and relu_first.words[4] & 0xF == 2


def test_update_report(tmp_path):
    path = tmp_path / "core.json"
    R.update_report(path, "A_P8_B1", {"x": 1})
    R.update_report(path, "B_P8_B1", {"x": 2})
    R.update_report(path, "A_P8_B1", {"x": 3})
    assert json.loads(path.read_text()) == {"A_P8_B1": {"x": 3}, "B_P8_B1": {"x": 2}}

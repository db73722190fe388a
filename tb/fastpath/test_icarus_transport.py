"""host/icarus.py IcarusSim (rtl/*.v under Icarus, tb/fastpath/cnn_core_pipe_tb.v) against host/fastsim.py
FastSim (the Verilated core) and the golden model, both driven by host.core.Core side by side.

  test_a8_train_infer      A8 at P=4: reset, program, weight load, 5 training steps, 2 inference samples;
                           every result packet = golden FixedNet (pred, logits = outs[-1], loss), the
                           cycles of every call equal on both transports, the weights read back equal
                           (and equal to the golden model's), counters equal
  test_seeded_pauses       a training step with seeded in_idle / out_stall pauses, then one more that
                           continues the same pause stream (seed 0), then a run stopped by stop_after
                           and a reset: same cycles, packets and return codes on both
  test_malformed_program   NUM_LAYERS = 0 -> CoreError code 4 on both, same STATUS and cycles
  test_bus_responses       SLVERR bursts (BATCH 0, a partial WSTRB, an unmapped read): same responses,
                           data and cycles on both
  test_dead_simulator      vvp killed -> RuntimeError naming the log file, no hang

Skipped with a message when iverilog (or, for the side-by-side tests, verilator) is missing.
"""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from golden import mse_delta, softmax
from golden.compiler import compile_net
from golden.data import load_for
from golden.fixed_model import FixedNet
from golden.requantize import to_codes
from golden.spec import get_net
from golden.trainer import epoch_order, initial_params
from host.core import Core, CoreError

P = 4
NET = "A8"

pytestmark = pytest.mark.skipif(not (shutil.which("iverilog") and shutil.which("vvp")),
                                reason="iverilog / vvp not installed (apt-get install iverilog): "
                                       "the Icarus transport cannot be tested")

needs_verilator = pytest.mark.skipif(not shutil.which("verilator"),
                                     reason="verilator not installed: no FastSim to compare the Icarus "
                                            "transport with (apt-get install verilator)")


def _transports():
    from host.fastsim import FastSim
    from host.icarus import IcarusSim
    return FastSim(params={"P": P}), IcarusSim(params={"P": P})


def _setup(net, sims, load=True):
    prog = compile_net(net)
    _, params = initial_params(net, 0)
    fx = FixedNet(net, params)
    cores = [Core(s) for s in sims]
    for c in cores:
        c.reset()
        c.program(prog, batch=1, lr=fx.lr_code, seed=net.fmt.lfsr_seed)
        if load:
            c.load_weights(prog.weights_flat(fx.params))
    return prog, fx, cores


def _packet(p):
    return [p.pred] + list(p.logits) + [p.loss]


def _golden_infer(fx, x, y):
    tr = fx.forward(x)
    z = tr.outs[-1].reshape(-1)
    if fx.net.head == "softmax_ce":
        loss = softmax.loss(z, int(y), fx.f.act)
    else:
        loss = mse_delta.loss(tr.head_out, int(y), fx.f.act.frac)
    return [tr.pred] + [int(v) for v in z] + [int(loss)]


def _same_calls(cores, fn):
    """Run fn(core) on every core; -> (results, cycle deltas)."""
    out, cyc = [], []
    for c in cores:
        c0 = c.sim.cycles
        out.append(fn(c))
        cyc.append(c.sim.cycles - c0)
    return out, cyc


@needs_verilator
def test_a8_train_infer():
    net = get_net(NET)
    sims = _transports()
    try:
        assert [s.cycles for s in sims] == [0, 0]
        prog, fx, cores = _setup(net, sims)
        assert sims[0].cycles == sims[1].cycles, "reset + program + weight load cycles differ"
        xtr, ytr, xte, yte = load_for(net)
        xin, xtest = to_codes(xtr, net.fmt.act), to_codes(xte, net.fmt.act)
        order = epoch_order(len(ytr), 0, 0)
        for k in range(5):
            i = order[k]
            res, cyc = _same_calls(cores, lambda c: c.train([xin[i]], [int(ytr[i])]))
            tr = fx.train_step(xin[i:i + 1], ytr[i:i + 1])[0]
            exp = [tr.pred] + [int(v) for v in tr.outs[-1].reshape(-1)] + [tr.loss]
            for s, r in zip(sims, res):
                assert len(r.packets) == 1, f"step {k} on {s.name}: {len(r.packets)} packets"
                assert _packet(r.packets[0]) == exp, f"step {k} on {s.name}: packet differs from golden"
            assert cyc[0] == cyc[1], f"step {k}: cycles fast {cyc[0]} != icarus {cyc[1]}"
            assert res[0].cycles == res[1].cycles and res[0].taken == res[1].taken
            assert res[0].status == res[1].status
        res, cyc = _same_calls(cores, lambda c: c.infer(xtest[:2], yte[:2]))
        exp = [_golden_infer(fx, xtest[j], yte[j]) for j in range(2)]
        for s, r in zip(sims, res):
            assert [_packet(p) for p in r.packets] == exp, f"inference on {s.name} differs from golden"
        assert cyc[0] == cyc[1], f"inference: cycles fast {cyc[0]} != icarus {cyc[1]}"
        w, cyc = _same_calls(cores, lambda c: c.read_weights(prog.wmem_words))
        assert cyc[0] == cyc[1]
        assert np.array_equal(w[0], w[1]), "weights read back differ between the transports"
        assert np.array_equal(w[1], prog.weights_flat(fx.params)), "weights differ from golden"
        cnt, _ = _same_calls(cores, lambda c: c.counters())
        assert cnt[0] == cnt[1] and cnt[0]["steps"] == 6
        assert sims[0].cycles == sims[1].cycles
    finally:
        for s in sims:
            s.close()


@needs_verilator
def test_seeded_pauses():
    net = get_net(NET)
    sims = _transports()
    try:
        prog, fx, cores = _setup(net, sims)
        xtr, ytr, _, _ = load_for(net)
        xin = to_codes(xtr, net.fmt.act)
        kw = dict(in_idle=400, out_stall=600, seed=0x1234_5678_9ABC_DEF1)
        res, cyc = _same_calls(cores, lambda c: c.train(xin[:1], ytr[:1], **kw))
        tr = fx.train_step(xin[:1], ytr[:1])[0]
        exp = [tr.pred] + [int(v) for v in tr.outs[-1].reshape(-1)] + [tr.loss]
        assert [_packet(r.packets[0]) for r in res] == [exp, exp]
        assert cyc[0] == cyc[1], f"seeded pauses: cycles fast {cyc[0]} != icarus {cyc[1]}"
        # the pauses cost cycles (so the pattern was in force), and the pause stream goes on with seed 0
        _, plain = _same_calls(cores, lambda c: c.train(xin[1:2], ytr[1:2]))
        fx.train_step(xin[1:2], ytr[1:2])
        assert plain[0] == plain[1] and cyc[0] > plain[0]
        res, cyc = _same_calls(cores, lambda c: c.train(xin[2:3], ytr[2:3], in_idle=300, out_stall=300))
        fx.train_step(xin[2:3], ytr[2:3])
        assert cyc[0] == cyc[1] and _packet(res[0].packets[0]) == _packet(res[1].packets[0])
        # stopped mid-step, then reset: both say rc 2 (a StepResult back), same cycles and beats taken
        res, cyc = _same_calls(cores, lambda c: c.train(xin[3:4], ytr[3:4], in_idle=200, seed=7,
                                                         stop_after=500))
        assert cyc[0] == cyc[1] and res[0].taken == res[1].taken and res[0].taken > 0
        _, cyc = _same_calls(cores, lambda c: c.reset())
        assert cyc[0] == cyc[1]
        st, _ = _same_calls(cores, lambda c: c.status())
        assert st[0] == st[1]
        assert sims[0].cycles == sims[1].cycles
    finally:
        for s in sims:
            s.close()


@needs_verilator
def test_malformed_program():
    net = get_net(NET)
    sims = _transports()
    try:
        prog = compile_net(net)
        errs, cyc = [], []
        for s in sims:
            c = Core(s)
            c.reset()
            c.program(prog, batch=1, num_layers=0)
            c0 = s.cycles
            with pytest.raises(CoreError) as e:
                c.train([np.zeros(64, np.int64)], [0])
            cyc.append(s.cycles - c0)
            errs.append(e.value)
        assert [e.code for e in errs] == [4, 4], [str(e) for e in errs]
        assert errs[0].status == errs[1].status
        assert cyc[0] == cyc[1]
    finally:
        for s in sims:
            s.close()


@needs_verilator
def test_bus_responses():
    sims = _transports()
    try:
        for s in sims:
            s.reset(4)
        outs = []
        for s in sims:
            a = s.write_burst(0x008, [1, 0, 2, 0x10000])                 # BATCH: ok, SLVERR, ok, SLVERR
            b = s.write_burst(0x008, [3], wstrb=0x3)                     # partial strobes: SLVERR
            c = s.read_burst(0x000, 12)                                  # registers and unmapped words
            d = s.read_burst(0x10000, 0)                                 # empty bursts: no cycles
            e = s.write_burst(0x10000, [])
            outs.append((a, b, c, d, e, s.cycles))
        fa, ic = outs
        for k, (x, y) in enumerate(zip(fa[:5], ic[:5])):
            assert x[0] == y[0], f"access {k}: rc {x[0]} != {y[0]}"
            for u, v in zip(x[1:], y[1:]):
                assert u.dtype == v.dtype and np.array_equal(u, v), f"access {k}: {u} != {v}"
        assert list(ic[0][1]) == [0, 2, 0, 2] and list(ic[1][1]) == [2]
        assert fa[5] == ic[5]
    finally:
        for s in sims:
            s.close()


def test_dead_simulator():
    from host.icarus import IcarusSim
    s = IcarusSim(params={"P": P})
    try:
        s.reset(2)
        assert s.cycles == 3
        s._proc.kill()
        s._proc.wait(10)
        with pytest.raises(RuntimeError, match=r"see .*\.log"):
            s.tick(10)
            s.tick(10)                  # the first may still fit in the pipe buffer
    finally:
        s.close()
        s.log.unlink(missing_ok=True)        # kept because the simulator failed; here that was the point

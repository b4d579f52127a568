"""STDP, normalization and WTA dynamics on a tiny network."""

import torch

from snncontrol.vpr import module
from snncontrol.vpr.config import ModuleConfig


def tiny(**kw) -> ModuleConfig:
    return ModuleConfig(n_exc=3, image_size=2, **kw)


def test_stdp_pre_and_post_by_hand():
    cfg = tiny()
    c = module.constants(cfg)
    w = torch.full((1, 4, 3), 0.5)
    traces = module.Traces(
        torch.tensor([[1.0, 0.0, 0.5, 0.0]]), torch.tensor([[0.0, 1.0, 0.0]]), torch.tensor([[0.0, 0.5, 0.0]])
    )
    spikes = torch.tensor([[0.0, 1.0, 0.0, 0.0]])
    index, rows, drive = module.gather_drive(w, spikes, c.k_in)
    assert index.tolist() == [1] and torch.allclose(drive, torch.full((1, 3), 0.5 * c.k_in))
    post = torch.tensor([[0.0, 1.0, 0.0]])
    out = module.stdp(cfg, c, w, traces, index, rows, post)
    post1 = 1.0 * c.decay_post1
    post2 = 0.5 * c.decay_post2
    pre = torch.tensor([1.0 * c.decay_pre, 1.0, 0.5 * c.decay_pre, 0.0])
    expected = torch.full((4, 3), 0.5)
    expected[1, 1] -= cfg.nu_pre * post1  # depression at the pre spike of input 1 (post1 of neuron 1)
    expected[:, 1] += cfg.nu_post * pre * post2  # potentiation at the post spike of neuron 1
    assert torch.allclose(w[0], expected)
    assert out.pre[0, 1] == 1.0 and out.post1[0, 1] == 1.0 and out.post2[0, 1] == 1.0


def test_stdp_clips_to_bounds():
    cfg = tiny(nu_post=10.0, nu_pre=10.0)
    c = module.constants(cfg)
    w = torch.full((1, 4, 3), 0.9)
    traces = module.Traces(torch.ones(1, 4), torch.ones(1, 3), torch.ones(1, 3))
    spikes = torch.tensor([[1.0, 0.0, 0.0, 0.0]])
    index, rows, _ = module.gather_drive(w, spikes, c.k_in)
    module.stdp(cfg, c, w, traces, index, rows, torch.tensor([[0.0, 0.0, 1.0]]))
    assert w.min() >= 0.0 and w.max() <= cfg.w_max and w[0, 0, 0] == 0.0 and w[0, 1, 2] == cfg.w_max


def test_normalization():
    w = torch.rand(2, 4, 3)
    module.normalize(w, 5.0)
    assert torch.allclose(w.sum(dim=1), torch.full((2, 3), 5.0))


def test_winner_inhibits_the_others():
    cfg = tiny(w_ie=200.0)
    c = module.constants(cfg)
    theta = c.theta.expand(1, -1)
    state = module.rest_state((1, 6), torch.zeros(1, 3))
    fired = torch.zeros(1, 3)
    drive = torch.tensor([[0.5, 0.4, 0.0]])  # mV-per-step currents: neuron 0 is driven hardest
    for _ in range(200):
        state = module.step(c, state, drive, theta, learn=False)
        fired += state.s[:, :3]
    assert fired[0, 0] > 3 and fired[0, 1] <= 1 and fired[0, 2] == 0


def test_adaptation_grows_only_while_learning():
    cfg = tiny()
    c = module.constants(cfg)
    theta = c.theta.expand(1, -1)
    for learn, grows in ((True, True), (False, False)):
        state = module.rest_state((1, 6), torch.zeros(1, 3))
        for _ in range(100):
            state = module.step(c, state, torch.tensor([[2.0, 0.0, 0.0]]), theta, learn=learn)
        assert (state.a[0, 0] > 0) == grows

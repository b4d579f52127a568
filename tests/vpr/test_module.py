"""STDP, normalization and WTA dynamics on a tiny network."""

import math

import torch

from snncontrol.vpr import module, train
from snncontrol.vpr.config import ModuleConfig
from snncontrol.vpr.ensemble import place_table


def tiny(**kw) -> ModuleConfig:
    return ModuleConfig(n_exc=3, image_size=2, patch=3, **kw)


def base_theta(c: module.Constants, n: int = 3) -> torch.Tensor:
    return torch.full((1, n), c.theta_e)


def test_stdp_pre_and_post_by_hand():
    cfg = tiny()
    c = module.constants(cfg)
    w = torch.full((1, 4, 3), 0.5)
    traces = module.Traces(
        torch.tensor([[1.0, 0.0, 0.5, 0.0]]), torch.tensor([[0.0, 1.0, 0.0]]), torch.tensor([[0.0, 0.5, 0.0]])
    )
    spikes = torch.tensor([[0.0, 1.0, 0.0, 0.0]])
    index, drive = module.gather_drive(w, spikes, c.k_in)
    assert index.tolist() == [1] and torch.allclose(drive, torch.full((1, 3), 0.5 * c.k_in))
    post = torch.tensor([[0.0, 1.0, 0.0]])
    out = module.stdp(cfg, c, w, traces, index, post)
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
    index, _ = module.gather_drive(w, spikes, c.k_in)
    module.stdp(cfg, c, w, traces, index, torch.tensor([[0.0, 0.0, 1.0]]))
    assert w.min() >= 0.0 and w.max() <= cfg.w_max and w[0, 0, 0] == 0.0 and w[0, 1, 2] == cfg.w_max


def test_normalization():
    w = torch.rand(2, 4, 3)
    module.normalize(w, 5.0)
    assert torch.allclose(w.sum(dim=1), torch.full((2, 3), 5.0))


def test_one_winner_per_step_and_its_partner_inhibits_the_others():
    cfg = tiny()
    c = module.constants(cfg)
    state = module.rest_state((1, 3))
    fired, inh_fired = torch.zeros(1, 3), torch.zeros(1, 3)
    # mV-per-step currents as a route image gives (u_inf ~ 150 mV against a 13 mV threshold): neurons 0 and 1
    # are both far above threshold, 0 a little more
    drive = torch.tensor([[0.93, 0.9, 0.2]])
    for _ in range(200):
        state = module.step(c, state, drive, base_theta(c), learn=False)
        assert state.exc.s.sum() <= 1 and torch.equal(state.inh.s, state.exc.s)  # the partner, in the same step
        fired += state.exc.s
        inh_fired += state.inh.s
    assert fired[0, 0] > 10 and fired[0, 1] == 0 and fired[0, 2] == 0
    # what one inhibitory spike does to a membrane: the conductance's exact effect, towards e_inh
    assert c.e_inh == -35.0 and math.isclose(c.shunt, math.exp(-cfg.w_ie * cfg.tau_gi / cfg.tau_e))


def test_silenced_neurons_never_fire():
    cfg = tiny()
    c = module.constants(cfg)
    theta = base_theta(c).clone()
    theta[0, 0] = math.inf
    state = module.rest_state((1, 3))
    fired = torch.zeros(1, 3)
    for _ in range(100):
        state = module.step(c, state, torch.tensor([[3.0, 1.0, 0.0]]), theta, learn=False)
        fired += state.exc.s
    assert fired[0, 0] == 0 and fired[0, 1] > 0


def test_adaptation_grows_only_while_learning():
    cfg = tiny()
    c = module.constants(cfg)
    for learn, grows in ((True, True), (False, False)):
        state = module.rest_state((1, 3), torch.zeros(1, 3))
        for _ in range(100):
            state = module.step(c, state, torch.tensor([[2.0, 0.0, 0.0]]), base_theta(c), learn=learn)
        assert (state.exc.a[0, 0] > 0) == grows


def test_learning_moves_the_winner_to_the_image_and_keeps_its_weights_normalized():
    cfg = ModuleConfig(n_exc=3, image_size=8, w_total=24.0)  # 64 inputs, 0.375 per weight after normalization
    weights = torch.rand(1, 64, 3, generator=torch.Generator().manual_seed(0)) * cfg.w_init_max
    on = torch.arange(64) % 2 == 0
    image = (on * 255.0)[None]  # the even inputs fire at 64 Hz, the odd ones never
    before = weights.clone()
    module.normalize(before, cfg.w_total)
    adaptation = train.learn_epoch(cfg, weights, torch.zeros(1, 3), image, place_table(1, 1), seed=0)
    assert torch.allclose(weights.sum(dim=1), torch.full((1, 3), 24.0))
    change = (weights - before).abs().sum(dim=1)[0]
    winner = int(change.argmax())
    assert weights[0, on, winner].sum() > before[0, on, winner].sum() + 0.5 and weights.max() <= cfg.w_max
    assert ((change > 1e-3) == (adaptation[0] > 0)).all()  # only neurons that fired learned (and adapted)
    assert (change > 1e-3).sum() < 3

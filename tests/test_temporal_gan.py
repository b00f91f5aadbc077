"""The temporal GAN (GenGAN.py --temporal): training on runs of consecutive frames, a generator that keeps what it
learns to keep of its previous frame, and a sequence generated one frame after the other."""
import numpy as np
import torch

import GenGAN
from networks import ExemplarWarper, carried_layers
from training import load_checkpoint, split_indices, train

from test_generators import options


def identity_grid(batch, size):
    """(B, 2, S, S): every pixel where it is (grid_sample's x, y in [-1, 1] at pixel centres)."""
    centres = (torch.arange(size, dtype=torch.float32) + 0.5) / size * 2 - 1
    y, x = torch.meshgrid(centres, centres, indexing="ij")
    return torch.stack([x, y]).expand(batch, 2, size, size)


def test_consecutive_runs_are_a_frame_and_the_ones_after_it(synthetic_target):
    train_ids, _ = split_indices(len(synthetic_target))
    bank = GenGAN.ExemplarBank(synthetic_target, train_ids, 64)
    frames = GenGAN.ExemplarPairs(synthetic_target, train_ids, 64, bank, training=True)
    joints = lambda positions: torch.from_numpy(synthetic_target.reduced()[np.asarray(train_ids)[positions]].reshape(-1, 13, 2))
    items = np.array([0, 5, 17])
    for run_length in (2, 3):
        runs = GenGAN.ConsecutiveExemplarRuns(synthetic_target, train_ids, 64, bank, run_length)
        assert runs.frames_per_item == 2 and len(runs) == len(train_ids) - run_length + 1  # the synthetic clip has no cut
        batch = runs.batch(items)
        chain = [batch]
        while chain[0].previous is not None:
            chain.insert(0, chain[0].previous)
        assert len(chain) == run_length and chain[0].motion is None
        for offset, frames_at in enumerate(chain):  # the run's frames, one after the other
            assert torch.equal(frames_at.real, frames.batch(items + offset).real)
            if offset:  # and the motion from each to the next
                assert torch.allclose(frames_at.motion, GenGAN.pose_guided_grid(joints(items + offset), joints(items + offset - 1), 64))
    augmented = GenGAN.ConsecutiveExemplarRuns(synthetic_target, train_ids, 64, bank, 3, augment=True).batch(
        items, np.random.default_rng(0))
    assert not torch.equal(augmented.real, batch.real)  # shifted and scaled, and the frames of a run alike:
    # the backgrounds of a still camera's consecutive frames stay the same image
    assert torch.allclose(augmented.previous.previous.background, augmented.background, atol=0.02)


def test_a_run_gives_the_losses_its_last_pair_and_gradients_only_there(synthetic_target):
    torch.manual_seed(0)
    method = GenGAN.GANTraining(64, torch.device("cpu"), options(GenGAN, "video", "--temporal", "--temporal-run", 3),
                                synthetic_target)
    train_ids, validation_ids = split_indices(len(synthetic_target))
    runs, _ = method.make_datasets(synthetic_target, train_ids, validation_ids)
    batch = runs.batch(np.arange(4))
    generator = method.networks["generator"]
    with_gradients = []
    hook = generator.register_forward_pre_hook(lambda module, inputs: with_gradients.append(torch.is_grad_enabled()))
    pair, output = method.generate_frames(generator, batch)
    hook.remove()
    assert with_gradients == [False, True, True]  # the run's first frames only give the state
    assert output.shape == (8, 4, 64, 64) and output.requires_grad
    assert torch.equal(pair.real, torch.cat([batch.previous.real, batch.real]))
    # the frames are generated in order, each from the one before
    generator.eval()  # batch norm: the same statistics in both passes
    with torch.no_grad():
        first = generator(batch.previous.previous.inputs)
        second = generator(batch.previous.inputs, torch.cat([first, batch.previous.motion], dim=1))
        third = generator(batch.inputs, torch.cat([second, batch.motion], dim=1))
        _, again = method.generate_frames(generator, batch)
    assert torch.allclose(again, torch.cat([second, third]), atol=1e-6)


def test_carried_layers_move_the_previous_frame_by_the_motion():
    previous = torch.full((1, 4, 16, 16), -1.0)  # nothing, alpha 0 ...
    previous[:, :, 4:8, 2:6] = 1.0  # ... but a white square, alpha 1
    grid = identity_grid(1, 16)
    carried = carried_layers(torch.cat([previous, grid], dim=1))  # (1, 4, 16, 16) premultiplied, in [0, 1]
    assert torch.allclose(carried, (previous + 1) / 2, atol=1e-5)
    moved = carried_layers(torch.cat([previous, grid - torch.tensor([4 / 8, 0.0]).view(1, 2, 1, 1)], dim=1))
    assert torch.allclose(moved[:, :, :, 6:10], carried[:, :, :, 2:6], atol=1e-5)  # 4 pixels to the right
    assert moved[:, :, :, :6].abs().max() < 1e-5


def test_temporal_warper_keeps_of_its_previous_frame_what_it_decides():
    """The blend is learned: the same inputs give the previous frame, or the frame on its own, by the
    network's last layer alone; without a previous frame it is the frame-by-frame warper."""
    torch.manual_seed(0)
    warper = ExemplarWarper(32, temporal=True, base_channels=8, max_channels=16, canvas_channels=0).eval()
    inputs = torch.cat([torch.rand(2, 3 + 3 + 1, 32, 32) * 2 - 1, identity_grid(2, 32)], dim=1)
    inputs[:, 6:7] = (inputs[:, 6:7] > 0).float()  # the exemplar's mask
    previous = torch.rand(2, 4, 32, 32) * 2 - 1
    state = torch.cat([previous, identity_grid(2, 32)], dim=1)
    last = warper.unet.to_image[-2]
    with torch.no_grad():
        alone = warper(inputs)
        last.bias[7] = 10.0  # keep all of it
        kept = warper(inputs, state)
        last.bias[7] = -10.0  # keep none of it
        dropped = warper(inputs, state)
    assert torch.allclose(kept[:, 3], previous[:, 3], atol=0.05)  # the previous frame's alpha ...
    visible = (previous[:, 3] > 0)[:, None].expand(-1, 3, -1, -1)
    assert (kept[:, :3] - previous[:, :3])[visible].abs().mean() < 0.05  # ... and colour, where it was seen
    assert torch.allclose(dropped[:, 3], alone[:, 3], atol=1e-3)
    assert (dropped[:, :3] - alone[:, :3]).abs().mean() < 0.03  # only the painted colour (weighted ~0.02) saw it


def test_temporal_gan_trains_and_carries_its_previous_frame_through_a_sequence(synthetic_target, tmp_path):
    checkpoint = tmp_path / "gan.pt"
    args = options(GenGAN, "video", "--temporal", "--epochs", "1", "--checkpoint", checkpoint)
    method = GenGAN.GANTraining(64, torch.device("cpu"), args, synthetic_target)
    train(method, synthetic_target, args)
    saved = load_checkpoint(checkpoint, "gan")
    n_runs = len(split_indices(len(synthetic_target))[0]) - 2  # runs of 3 frames, by default
    assert saved["model_args"]["temporal"] and "temporal_discriminator" in saved["networks"]
    assert saved["progress"]["step"] == n_runs // 4  # a step sees 8 frames with losses: 4 pairs
    assert {"d_pairs", "g_pairs"} <= set(saved["progress"]["history"][-1])

    generator = GenGAN.GenGAN(synthetic_target, checkpoint)
    sequence = [synthetic_target.skeleton(i) for i in range(len(synthetic_target) - 12, len(synthetic_target))]
    exemplars = generator.plan(sequence, sequence=True)
    on_their_own = generator.run_network([generator.network_inputs(sequence, exemplars)])[0]  # (12, 64, 64, 3)
    carried = generator.sequence_layers(sequence)[0]  # what generate_layers runs on the steadied poses
    assert np.array_equal(carried[0], on_their_own[0])  # the first frame has no previous one
    assert all(not np.array_equal(a, b) for a, b in zip(carried[1:], on_their_own[1:]))
    # frame by frame, by hand: each frame from the one before, moved by the motion between their poses
    joints = torch.from_numpy(np.stack([skeleton.joints() for skeleton in sequence]))
    with torch.no_grad():
        previous = generator.network(generator.network_inputs(sequence[:1], exemplars[:1]))
        for t in range(1, 4):
            motion = GenGAN.motion_grids(joints[t:t + 1], joints[t - 1:t], 64)
            previous = generator.network(generator.network_inputs(sequence[t:t + 1], exemplars[t:t + 1]),
                                         torch.cat([previous, motion], dim=1))
    assert np.array_equal(carried[3], generator.layers_of([previous])[0][0])
    assert generator.generate(sequence[5]).shape == (64, 64, 3)  # a frame on its own still works

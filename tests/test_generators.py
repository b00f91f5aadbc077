"""The network generators train, save, load, resume and scale out on a small synthetic target."""
import os
import signal
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

import GenGAN
import GenNearest
import GenVanillaNN
from conftest import REPO_ROOT
from networks import ExemplarWarper, VectorDecoder, composite
from training import (AVERAGE, Budget, CheckpointError, generating_network, learning_rate_factor, load_checkpoint,
                      skeleton_inputs, split_indices, steadied, tensor_to_images, train, unwrap, update_average,
                      weight_average)

GENERATORS = {  # name -> (script module, method class, generator class, extra command-line options)
    "vanilla-vector": (GenVanillaNN, GenVanillaNN.VanillaTraining, GenVanillaNN.GenVanillaNN, ["--variant", "vector"]),
    "vanilla-image": (GenVanillaNN, GenVanillaNN.VanillaTraining, GenVanillaNN.GenVanillaNN, ["--variant", "image"]),
    "gan": (GenGAN, GenGAN.GANTraining, GenGAN.GenGAN, []),
    "gan-vector": (GenGAN, GenGAN.GANTraining, GenGAN.GenGAN, ["--input", "vector"]),  # the course's GAN
    "gan-temporal": (GenGAN, GenGAN.GANTraining, GenGAN.GenGAN, ["--temporal"]),  # saved as "gan"
}
EXEMPLAR_GANS = ("gan", "gan-temporal")


def options(module, *argv):
    """The parsed command-line options of a generator script, as its main() would see them."""
    return module.parse_args([str(a) for a in argv])


def run_script(script, *argv, env=None):
    return subprocess.run([sys.executable, script, *map(str, argv)], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=300, env=env)


def training_batch(method, target, n=16):
    """The first n training pairs as the method's training loop feeds them."""
    data, _ = method.make_datasets(target, *split_indices(len(target)))
    return data.batch(np.arange(n))


def test_compositing_keeps_the_background_where_alpha_is_0_and_the_person_where_it_is_1():
    person, background = torch.full((1, 3, 4, 4), 0.5), torch.full((1, 3, 4, 4), -0.25)
    alpha = torch.tensor([-1.0, 1.0, 0.0, -1.0]).view(1, 1, 1, 4).expand(1, 1, 4, 4)  # 0, 1, 0.5, 0 in [0, 1]
    image, weight = composite(torch.cat([person, alpha], dim=1), background)
    assert torch.equal(weight[0, 0, 0], torch.tensor([0.0, 1.0, 0.5, 0.0]))
    assert torch.allclose(image[0, :, :, 0], background[0, :, :, 0]) and torch.allclose(image[0, :, :, 1], person[0, :, :, 1])
    assert torch.allclose(image[0, :, :, 2], torch.full((3, 4), 0.125))
    unknown, weight = composite(torch.cat([person, alpha], dim=1), None)  # no scene: the person's colour is the image
    assert torch.equal(unknown, person) and (weight == 1).all()


@pytest.mark.parametrize("name", GENERATORS)
def test_loss_goes_down_and_alpha_learns_the_mask(synthetic_target, name):
    module, method_class, _, extra = GENERATORS[name]
    torch.manual_seed(0)
    method = method_class(64, torch.device("cpu"), options(module, "video", *extra), synthetic_target)
    assert method.model_args["composite"]  # the synthetic target's scene is registered
    batch = training_batch(method, synthetic_target)
    assert batch.background is not None and batch.mask.shape == (16, 1, 64, 64) and 0.05 < batch.mask.mean() < 0.5
    first = method.training_step(batch)
    for _ in range(40):
        last = method.training_step(batch)
    assert last["l1"] < 0.6 * first["l1"], (first, last)
    # the vanilla and vector networks start with alpha at 0.5 everywhere, the GAN with its exemplar's mask, warped
    assert last["mask"] < (0.75 if name in EXEMPLAR_GANS else 0.35) * first["mask"], (first, last)
    assert last["mask"] < (0.04 if name in EXEMPLAR_GANS else 0.2), (first, last)


@pytest.mark.parametrize("name", GENERATORS)
def test_checkpoint_round_trip_gives_identical_output(synthetic_target, tmp_path, name):
    module, method_class, generator_class, extra = GENERATORS[name]
    checkpoint = tmp_path / f"{name}.pt"
    args = options(module, "video", *extra, "--epochs", "1", "--checkpoint", checkpoint)
    method = method_class(64, torch.device("cpu"), args, synthetic_target)
    train(method, synthetic_target, args)
    assert load_checkpoint(checkpoint)["model_args"]["composite"] is True  # the checkpoint says it composites

    frames = split_indices(len(synthetic_target))[1]
    skeletons = [synthetic_target.skeleton(i) for i in frames]
    views = [synthetic_target.view(i) for i in frames]
    loaded = generator_class(synthetic_target, checkpoint)
    reloaded = generator_class(synthetic_target, checkpoint)
    generated = loaded.generate_batch(skeletons, views)
    assert generated.shape == (len(skeletons), 64, 64, 3) and generated.dtype == np.uint8
    assert np.array_equal(generated, reloaded.generate_batch(skeletons, views))
    assert np.array_equal(generated[0], loaded.generate(skeletons[0], views[0]))
    person, alpha = loaded.generate_layers(skeletons)
    assert np.array_equal(generated, synthetic_target.over_scene(person, alpha, views))
    with torch.no_grad():  # the network as trained, before saving, gives the same layers
        network = unwrap(generating_network(method.networks)).eval()  # the GAN's weight average
        if name in EXEMPLAR_GANS:
            network.paint_person = loaded.network.paint_person  # a choice made at generation (GenGAN: off by default)
        output = network(loaded.network_inputs(skeletons, loaded.plan(skeletons, sequence=False)))
    assert np.array_equal(person, tensor_to_images(output[:, :3]))
    assert np.allclose(alpha, (output[:, 3].numpy() + 1) / 2, atol=1e-6)
    assert loaded.name == {"gan-temporal": "gan"}.get(name, name) and loaded.size == 64 and loaded.target_name == synthetic_target.name


def test_gan_generates_from_the_average_of_its_weights(synthetic_target, tmp_path):
    """The GAN keeps an exponential moving average of its generator's weights, saves it beside the
    generator (which resuming continues to train), and generates from it."""
    layer = torch.nn.Linear(2, 2)
    torch.nn.init.constant_(layer.weight, 1.0)
    average = weight_average(layer)
    torch.nn.init.constant_(layer.weight, 0.0)
    update_average(average, layer, step=10_000)  # long into a run: decay 0.999
    assert torch.allclose(average.weight, torch.full((2, 2), 0.999))
    update_average(average, layer, step=1)  # at the start the average follows the network closely
    assert torch.allclose(average.weight, torch.full((2, 2), 0.999 * 2 / 11))

    checkpoint = tmp_path / "gan.pt"
    args = options(GenGAN, "video", "--epochs", "1", "--checkpoint", checkpoint)
    train(GenGAN.GANTraining(64, torch.device("cpu"), args, synthetic_target), synthetic_target, args)
    saved = load_checkpoint(checkpoint, "gan")["networks"]
    loaded = GenGAN.GenGAN(synthetic_target, checkpoint).network.state_dict()
    for name, weights in saved[AVERAGE].items():
        assert torch.equal(loaded[name], weights)
    assert any(not torch.equal(weights, saved["generator"][name]) for name, weights in saved[AVERAGE].items())

    resumed = run_script("GenGAN.py", synthetic_target.cache_dir, "--size", 64, "--epochs", 2, "--resume",
                         "--checkpoint", checkpoint)  # resuming trains the generator on, the average beside it
    assert resumed.returncode == 0, resumed.stderr
    again = load_checkpoint(checkpoint)["networks"]
    assert any(not torch.equal(again[AVERAGE][name], weights) for name, weights in saved[AVERAGE].items())


def test_vector_gan_generates_from_the_26d_skeleton_and_its_critic_sees_the_drawing(synthetic_target):
    """--input vector: the course's GAN, a DCGAN-style decoder of the reduced skeleton, judged by the
    same conditional critic as the image GAN, on the drawn skeleton."""
    method = GenGAN.GANTraining(64, torch.device("cpu"), options(GenGAN, "video", "--input", "vector"), synthetic_target)
    assert method.name == "gan-vector" and method.input_kind == "vector" and method.model_args["input"] == "vector"
    assert isinstance(unwrap(method.networks["generator"]), VectorDecoder)
    batch = training_batch(method, synthetic_target, n=4)
    skeletons = [synthetic_target.skeleton(i) for i in split_indices(len(synthetic_target))[0][:4]]
    assert batch.inputs.shape == (4, 26)
    assert torch.equal(batch.drawings, skeleton_inputs(skeletons, "image", 64))  # (4, 3, 64, 64)
    with pytest.raises(SystemExit):
        options(GenGAN, "video", "--input", "vector", "--no-attention")  # an option of the image GAN only


def test_training_writes_grid_and_loss_curve(synthetic_target, tmp_path):
    checkpoint = tmp_path / "gan.pt"
    args = options(GenGAN, "video", "--epochs", "2", "--checkpoint", checkpoint)
    train(GenGAN.GANTraining(64, torch.device("cpu"), args, synthetic_target), synthetic_target, args)
    grid = cv2.imread(str(tmp_path / "gan_grid.png"))
    assert grid is not None and grid.shape[1] == 4 * 64  # skeleton | generated | alpha | real
    assert (tmp_path / "gan_losses.png").stat().st_size > 1000
    progress = load_checkpoint(checkpoint, "gan")["progress"]
    assert [entry["epoch"] for entry in progress["history"]] == [1, 2]


def test_resume_continues_from_the_saved_step(synthetic_target, tmp_path):
    checkpoint = tmp_path / "vector.pt"
    common = [synthetic_target.cache_dir, "--variant", "vector", "--size", 64, "--checkpoint", checkpoint]
    first = run_script("GenVanillaNN.py", *common, "--epochs", 1)
    assert first.returncode == 0, first.stderr
    after_one = load_checkpoint(checkpoint)["progress"]
    resumed = run_script("GenVanillaNN.py", *common, "--epochs", 3, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert f"resumed {checkpoint} at epoch 1, step {after_one['step']}" in resumed.stdout
    after_three = load_checkpoint(checkpoint)["progress"]
    assert after_three["epoch"] == 3 and after_three["step"] == 3 * after_one["step"]
    assert after_three["history"][0] == after_one["history"][0]  # the first epoch is kept, not redone


def test_learning_rate_falls_to_zero_at_the_end_of_the_budget_and_a_resume_extends_it(synthetic_target, tmp_path):
    assert [learning_rate_factor(f, 0.5) for f in (0, 0.5, 0.75, 1, 1.2)] == [1, 1, 0.5, 0, 0]
    assert learning_rate_factor(0.9, 0) == 1  # no decay: constant

    def last_rate(checkpoint):
        group = load_checkpoint(checkpoint)["optimizers"]["generator"]["param_groups"][0]
        return group["lr"] / group["initial_lr"], group["initial_lr"]

    checkpoint = tmp_path / "vector.pt"
    for epochs, resume in ((2, []), (4, ["--resume"])):
        args = options(GenVanillaNN, "video", "--variant", "vector", "--epochs", epochs, "--lr-decay", 1,
                       "--checkpoint", checkpoint, *resume)
        method = GenVanillaNN.VanillaTraining(64, torch.device("cpu"), args, synthetic_target)
        train(method, synthetic_target, args)
        steps = load_checkpoint(checkpoint)["progress"]["step"]
        factor, initial = last_rate(checkpoint)
        # the last step ran at 1 - (steps - 1) / steps of the budget: over all epochs, the resumed ones too
        assert initial == args.lr and factor == pytest.approx(1 / steps)

    args = options(GenVanillaNN, "video", "--minutes", 1)
    budget = Budget(args, {"seconds": 30.0}, steps_per_epoch=10, world_size=1)
    budget.update(step=0)  # resumed after 30 s with one more minute: a third of the way through
    assert budget.fraction == pytest.approx(1 / 3, abs=0.01) and not budget.out_of_time


def test_wrong_checkpoints_give_clear_errors(synthetic_target, tmp_path):
    checkpoint = tmp_path / "vector.pt"
    common = [synthetic_target.cache_dir, "--size", 64, "--checkpoint", checkpoint]
    assert run_script("GenVanillaNN.py", *common, "--epochs", 1).returncode == 0

    with pytest.raises(CheckpointError, match="'vanilla-vector' generator, not 'gan/gan-vector'"):
        GenGAN.GenGAN(checkpoint=checkpoint)
    for argv in (["GenGAN.py", *common, "--resume"],  # another generator's checkpoint
                 ["GenVanillaNN.py", synthetic_target.cache_dir, "--size", 128, "--checkpoint", checkpoint,
                  "--resume"],  # another resolution
                 ["GenGAN.py", synthetic_target.cache_dir, "--checkpoint", tmp_path / "missing.pt", "--resume"]):
        result = run_script(*argv)
        last_line = result.stderr.strip().splitlines()[-1]
        assert result.returncode != 0 and last_line.startswith("error:"), result.stderr
        assert "Traceback" not in result.stderr
    tampered = torch.load(checkpoint, weights_only=False)  # weights of another version of the network
    tampered["networks"]["generator"].pop(next(iter(tampered["networks"]["generator"])))
    torch.save(tampered, tmp_path / "tampered.pt")
    with pytest.raises(CheckpointError, match="does not fit this version's network"):
        GenVanillaNN.GenVanillaNN(checkpoint=tmp_path / "tampered.pt")
    (tmp_path / "garbage.pt").write_text("not a checkpoint")
    with pytest.raises(CheckpointError, match="cannot read"):
        GenVanillaNN.GenVanillaNN(checkpoint=tmp_path / "garbage.pt")
    older = torch.load(checkpoint, weights_only=False)  # saved before generators composited
    older["format"] = 1
    torch.save(older, tmp_path / "older.pt")
    with pytest.raises(CheckpointError, match="older version .* draw the person over the scene.*train it again"):
        GenVanillaNN.GenVanillaNN(synthetic_target, tmp_path / "older.pt")


def test_ctrl_c_saves_and_exits_130(synthetic_target, tmp_path):
    """Ctrl-C (SIGINT) after the first epoch: the run saves what it has and exits with status 130,
    one summary line per epoch and no progress bar in its output (not a terminal)."""
    checkpoint = tmp_path / "vector.pt"
    process = subprocess.Popen([sys.executable, "GenVanillaNN.py", str(synthetic_target.cache_dir), "--size", "64",
                                "--epochs", "1000", "--checkpoint", str(checkpoint)],
                               cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith("epoch 1 "):
            break
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    out = "".join(lines) + out
    assert process.returncode == 130, err
    assert f"interrupted: saved {checkpoint}" in out
    assert load_checkpoint(checkpoint)["progress"]["epoch"] >= 1
    assert "Traceback" not in err and "\r" not in out + err and "it/s" not in err


def test_dry_run_runs_one_batch_and_saves_nothing(synthetic_target, tmp_path):
    checkpoint = tmp_path / "gan.pt"
    result = run_script("GenGAN.py", synthetic_target.cache_dir, "--size", 64, "--dry-run", "--checkpoint", checkpoint)
    assert result.returncode == 0, result.stderr
    assert "step 1 " in result.stdout and not checkpoint.exists()


def test_fixed_seed_repeats_a_run(synthetic_target, tmp_path):
    histories = []
    for run in range(2):
        checkpoint = tmp_path / f"run{run}.pt"
        args = options(GenGAN, "video", "--epochs", "1", "--checkpoint", checkpoint)
        torch.manual_seed(args.seed)
        train(GenGAN.GANTraining(64, torch.device("cpu"), args, synthetic_target), synthetic_target, args)
        histories.append(load_checkpoint(checkpoint)["progress"]["history"])
    assert histories[0] == histories[1]


def run_two_processes(synthetic_target, checkpoint, *argv):
    torchrun = os.path.join(os.path.dirname(sys.executable), "torchrun")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run([torchrun, "--nproc_per_node=2", "--master_port=29517", "GenGAN.py",
                           str(synthetic_target.cache_dir), "--size", "64", "--checkpoint", str(checkpoint),
                           *map(str, argv)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, env=env)


def test_two_process_ddp_ends_with_identical_weights(synthetic_target, tmp_path):
    checkpoint = tmp_path / "gan.pt"
    result = run_two_processes(synthetic_target, checkpoint, "--epochs", 1)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "weights identical on all 2 processes" in result.stdout
    assert "2 process(es)" in result.stdout
    n_train = len(split_indices(len(synthetic_target))[0])
    # each process takes half of every epoch: half as many steps as one process would make
    assert load_checkpoint(checkpoint, "gan")["progress"]["step"] == max(1, n_train // 2 // 8)


def test_two_processes_agree_on_the_time_budget(synthetic_target, tmp_path):
    """Each process has its own clock: stopping at a time budget, or a learning rate decayed over it,
    must follow one figure for all, or they stop at different steps (and hang) or drift apart."""
    checkpoint = tmp_path / "gan.pt"
    result = run_two_processes(synthetic_target, checkpoint, "--epochs", 1000, "--minutes", 0.2, "--lr-decay", 1)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "budget of 0.2 min reached" in result.stdout
    assert "weights identical on all 2 processes" in result.stdout
    group = load_checkpoint(checkpoint)["optimizers"]["generator"]["param_groups"][0]
    assert group["lr"] < 0.1 * group["initial_lr"]  # decayed by the clock, to near zero at the end


# --- the GAN's exemplars: the target's own training frames beside the asked pose ------------------
def test_training_exemplars_come_from_another_moment(synthetic_target):
    """A frame is never its own exemplar, nor a neighbour in time: the network must learn to move limbs."""
    train_ids, _ = split_indices(len(synthetic_target))
    bank = GenGAN.ExemplarBank(synthetic_target, train_ids, 64)
    choices = bank.training_choices(train_ids)  # (N, choices)
    seconds = np.asarray(synthetic_target.meta["frame_indices"]) / synthetic_target.fps
    apart = np.abs(seconds[choices] - seconds[np.asarray(train_ids)][:, None])
    assert choices.shape == (len(train_ids), GenGAN.EXEMPLAR_CHOICES)
    assert set(choices.ravel()) <= set(train_ids)
    # in this 2-second clip, frames near its middle have no training frame a full second away:
    # they take the farthest candidate instead, which is still never themselves
    assert (apart > 0).all() and np.mean(apart >= GenGAN.EXEMPLAR_GAP_SECONDS) > 0.5


def test_pose_guided_grid_is_the_identity_for_the_same_pose(synthetic_target):
    joints = torch.from_numpy(synthetic_target.reduced()[:4].reshape(4, 13, 2))
    grid = GenGAN.pose_guided_grid(joints, joints, 32)  # (4, 2, 32, 32)
    centres = (torch.arange(32) + 0.5) / 32 * 2 - 1
    assert torch.allclose(grid[:, 0], centres.view(1, 1, 32).expand(4, 32, 32), atol=1e-5)  # x along columns
    assert torch.allclose(grid[:, 1], centres.view(1, 32, 1).expand(4, 32, 32), atol=1e-5)  # y along rows


def test_pose_guided_grid_finds_each_asked_joint_in_the_exemplar(synthetic_target):
    """The asked pose is the exemplar's, moved and shrunk: every joint of the asked pose must be
    fetched from where that joint is in the exemplar."""
    size = 64
    exemplar = torch.from_numpy(synthetic_target.reduced()[10:14].reshape(4, 13, 2))
    asked = (exemplar - 0.5) * 0.8 + torch.tensor([0.55, 0.45])  # scale 0.8 about the centre, then shift
    grid = GenGAN.pose_guided_grid(asked, exemplar, size)  # (4, 2, S, S)
    columns, rows = (asked * size).long().clamp(0, size - 1).unbind(-1)  # (4, 13) pixel of each asked joint
    fetched = grid[torch.arange(4)[:, None], :, rows, columns]  # (4, 13, 2) in [-1, 1]
    pixel_centres = ((asked * size).floor() + 0.5) / size  # where the pixels sampled actually are
    expected = exemplar + (pixel_centres - asked) / 0.8  # their places in the exemplar
    assert torch.allclose((fetched + 1) / 2, expected, atol=1e-4)


def test_pose_guided_grid_keeps_close_legs_apart(synthetic_target):
    """Shins asked side by side a little apart, from an exemplar whose legs stand wide: a pixel on the
    asked left shin must be fetched from the exemplar's left shin, not from between the two legs (the
    average of both limbs' moves, which melts two close legs into one shape)."""
    from Skeleton import L_ANKLE, L_KNEE, R_ANKLE, R_KNEE
    size = 64
    exemplar = torch.from_numpy(synthetic_target.reduced()[:1].reshape(1, 13, 2)).clone()
    exemplar[0, [L_KNEE, L_ANKLE, R_KNEE, R_ANKLE]] = torch.tensor([[0.35, 0.7], [0.35, 0.9], [0.65, 0.7], [0.65, 0.9]])
    asked = exemplar.clone()
    left, right = 30.5 / size, 33.5 / size  # the asked shins, 3 pixels apart, on pixel centres
    asked[0, [L_KNEE, L_ANKLE, R_KNEE, R_ANKLE]] = torch.tensor([[left, 0.7], [left, 0.9], [right, 0.7], [right, 0.9]])
    row, column = int(0.85 * size), 30  # a pixel on the asked left shin
    fetched_x = {share: float(GenGAN.pose_guided_grid(asked, exemplar, size, share_sigma=share)[0, 0, row, column] + 1) / 2
                 for share in (GenGAN.LIMB_SHARE_SIGMA, GenGAN.BONE_SIGMA)}
    exemplar_left_shin = 0.35
    assert abs(fetched_x[GenGAN.LIMB_SHARE_SIGMA] - exemplar_left_shin) < 0.03  # on the exemplar's left shin
    assert abs(fetched_x[GenGAN.BONE_SIGMA] - exemplar_left_shin) > 0.08  # the average: a third of the way across


def test_untrained_exemplar_gan_is_the_pose_guided_warp(synthetic_target):
    """At initialisation the correction is zero and the warped exemplar is trusted: the GAN starts
    from the nearest training frame moved onto the asked pose, not from grey."""
    torch.manual_seed(0)
    method = GenGAN.GANTraining(64, torch.device("cpu"), options(GenGAN, "video"), synthetic_target)
    inputs = training_batch(method, synthetic_target, n=8).inputs  # (8, 3 + 3 * 4^2 + 1 + 2, 64, 64)
    generator = unwrap(method.networks["generator"]).eval()
    _, exemplar, mask, grid = generator.split_inputs(inputs)  # exemplar (8, 3, r64, r64), mask (8, 1, 64, 64)
    assert exemplar.shape[-1] == 64 * GenGAN.exemplar_scale(64) == GenGAN.EXEMPLAR_SOURCE_SIZE
    with torch.no_grad():
        generated = generator(inputs)  # (8, 4, 64, 64): person and alpha
        warped = torch.nn.functional.grid_sample(exemplar, grid, padding_mode="border", align_corners=False)
        warped_mask = torch.nn.functional.grid_sample(mask, grid, align_corners=False)
    assert (generated[:, :3] - warped).abs().mean() < 0.03  # [-1, 1] scale
    alpha = (generated[:, 3:] + 1) / 2
    assert ((alpha > 0.5) == (warped_mask > 0.5)).float().mean() > 0.97  # alpha: the exemplar's mask, moved
    unmoved = torch.nn.functional.avg_pool2d(exemplar, GenGAN.exemplar_scale(64))  # the exemplar at 64x64
    assert (warped - unmoved).abs().mean() > 0.01  # and the warp did move the exemplar


def test_gan_paints_the_background_but_not_the_person(synthetic_target, tmp_path):
    """By default the person (near the drawn skeleton) is the exemplar's pixels, moved by the guided
    warp alone: what the network paints changes only the background there, and its learned flow
    changes nothing, unless the output as in training (painting the person) is asked for."""
    checkpoint = tmp_path / "gan.pt"
    args = options(GenGAN, "video", "--epochs", "1", "--checkpoint", checkpoint)
    train(GenGAN.GANTraining(64, torch.device("cpu"), args, synthetic_target), synthetic_target, args)
    skeletons = [synthetic_target.skeleton(i) for i in split_indices(len(synthetic_target))[1]]
    default, painting = (GenGAN.GenGAN(synthetic_target, checkpoint, paint_person=paint)
                         for paint in (False, True))
    drawing = skeleton_inputs(skeletons, "image", 64)  # (N, 3, 64, 64)
    person = default.network.person_region(drawing)[:, 0].numpy().astype(bool)  # (N, 64, 64)
    assert 0.05 < person.mean() < 0.7  # the figure and a margin around it, not the whole crop
    frames_alone = GenGAN.GenGAN(synthetic_target, checkpoint, no_mirror=True)  # exemplars not mirrored
    n_train = len(split_indices(len(synthetic_target))[0])
    assert len(frames_alone.bank.entries) == n_train and len(default.bank.entries) == 2 * n_train
    before = default.generate_layers(skeletons)[0], painting.generate_layers(skeletons)[0]
    for generator in (default, painting):  # paint every pixel a different colour
        with torch.no_grad():
            generator.network.unet.to_image[-2].bias[3:6].add_(0.5)
    changed = [np.abs(g.generate_layers(skeletons)[0].astype(int) - b).max(axis=-1) > 0
               for g, b in zip((default, painting), before)]  # (N, 64, 64) each
    assert not changed[0][person].any() and changed[0][~person].any()
    assert changed[1][person].any()
    before = default.generate_layers(skeletons), painting.generate_layers(skeletons)
    for generator in (default, painting):  # a learned flow of about a twentieth of the crop to the right
        with torch.no_grad():
            generator.network.unet.to_image[-2].bias[0].add_(0.4)
    after = default.generate_layers(skeletons), painting.generate_layers(skeletons)
    assert all(np.array_equal(b, a) for b, a in zip(before[0], after[0]))  # colour and alpha
    assert np.abs(after[1][1] - before[1][1]).max() > 0.5  # the alpha moved with the flow


def test_person_region_covers_the_drawn_pose_and_ramps_at_its_edge(synthetic_target):
    """At 256 the region is found on 4x4-pixel blocks; it differs from those blocks only within a
    block of their edge, where it ramps instead of stepping."""
    drawing = torch.from_numpy(np.asarray(skeleton_inputs([synthetic_target.skeleton(0)], "image", 256))).float()
    region = ExemplarWarper.person_region(drawing)[0, 0].numpy()  # (256, 256)
    drawn = drawing[0].amax(dim=0).numpy() > -0.9
    assert (region[drawn] == 1).all() and 0.05 < (region > 0.5).mean() < 0.7
    blocks = np.kron(region[1::4, 1::4] > 0.5, np.ones((4, 4))).astype(np.uint8)  # the steps it smooths
    kernel = np.ones((9, 9), np.uint8)
    near_edge = (cv2.dilate(blocks, kernel) > 0) & (cv2.erode(blocks, kernel) == 0)
    ramp = (region > 0) & (region < 1)
    assert ramp.any() and near_edge[ramp].all()
    assert np.array_equal(region[~near_edge], blocks[~near_edge])


def test_exemplar_gan_needs_its_target_and_says_so(synthetic_target, tmp_path):
    checkpoint = tmp_path / "gan.pt"
    args = options(GenGAN, "video", "--epochs", "1", "--checkpoint", checkpoint)
    train(GenGAN.GANTraining(64, torch.device("cpu"), args, synthetic_target), synthetic_target, args)
    with pytest.raises(CheckpointError, match="cache .* is missing: run VideoSkeleton.py"):
        GenGAN.GenGAN(checkpoint=checkpoint)  # the synthetic target's cache is not under data/cache/
    sequence = [synthetic_target.skeleton(i) for i in range(len(synthetic_target) - 12, len(synthetic_target))]
    generator = GenGAN.GenGAN(synthetic_target, checkpoint)
    # the exemplar search it was trained with, placement and facing included, comes back with the checkpoint
    assert generator.bank.nearest.index.placement_weight == GenGAN.EXEMPLAR_PLACEMENT_WEIGHT > 0
    assert generator.bank.nearest.index.facing_weight == GenGAN.EXEMPLAR_FACING_WEIGHT > 0
    frames = generator.bank.nearest.choose_frames(sequence)
    # a sequence follows that path, dissolving across its jumps with the exemplar it left playing on
    fades = GenNearest.dissolves(frames, generator.bank.entries, GenGAN.EXEMPLAR_DISSOLVE_FRAMES)
    left_behind = [(sequence[t], old) for t, old, _ in fades]
    expected = GenNearest.dissolve_layers(
        *generator.run_network([generator.network_inputs(sequence, frames)]), fades,
        *generator.run_network([generator.network_inputs([pose for pose, _ in left_behind],
                                                         np.array([old for _, old in left_behind]))] if fades else []))
    assert np.array_equal(generator.sequence_layers(sequence)[0], expected[0])
    # generating a sequence steadies its poses in time first, then does the same
    steady = steadied(sequence)
    assert np.array_equal(generator.generate_layers(sequence, sequence=True)[0], generator.sequence_layers(steady)[0])
    assert not np.array_equal(generator.sequence_layers(steady)[0], generator.sequence_layers(sequence)[0])
    # a path that jumps (from frame 12 to 30): three frames dissolve from the exemplar it left, playing on
    path = np.array([10, 11, 12, 30, 31, 32, 33, 34])
    generator.plan = lambda skeletons, sequence: path
    person, alpha = generator.sequence_layers(sequence[:8])
    new_person, new_alpha = generator.run_network([generator.network_inputs(sequence[:8], path)])
    old_person, old_alpha = generator.run_network([generator.network_inputs(sequence[3:6], np.array([13, 14, 15]))])
    assert np.array_equal(person[[0, 1, 2, 6, 7]], new_person[[0, 1, 2, 6, 7]])
    for step, t in enumerate((3, 4, 5)):
        weight = (step + 1) / 4
        assert np.allclose(alpha[t], weight * new_alpha[t] + (1 - weight) * old_alpha[step], atol=1e-6)
        assert not np.array_equal(person[t], new_person[t])

"""Conditional GAN generator (course GEN_TYPE 4): pix2pix on the drawn skeleton image.

Generator: a U-Net (networks.UNet) from the skeleton image to the person, with skip connections,
resize-convolution upsampling, self-attention at 8x8 and a learned canvas for what every frame
shares. Discriminator: a spectrally normalised patch critic that sees the skeleton image together
with the real or generated person. Losses: hinge adversarial + L1 + SSIM + discriminator feature matching.

    python GenGAN.py ../shared/data/taichi2.mp4 --minutes 20          # train (128x128 on CPU)
    python GenGAN.py ../shared/data/taichi2.mp4 --resume --minutes 10  # continue the same run
    python GenGAN.py ../shared/data/taichi2.mp4 --size 256 --dry-run   # one batch end to end
    torchrun --nproc_per_node=2 GenGAN.py VIDEO --minutes 20           # data-parallel training
"""
import argparse

import torch
import torch.nn.functional as F

from networks import PatchDiscriminator, UNet
from training import TrainedGenerator, add_training_arguments, autocast_for, run_training, unwrap, wrap_distributed

SIZES = (64, 128, 256, 512)


def gaussian_window(size=11, sigma=1.5):
    coordinates = torch.arange(size, dtype=torch.float32) - size // 2
    window = torch.exp(-coordinates**2 / (2 * sigma**2))
    return window / window.sum()


def ssim(a, b, window=gaussian_window()):
    """Mean SSIM of two image batches (B, 3, H, W) in [-1, 1], with the evaluation's settings
    (11x11 Gaussian window, sigma 1.5, K1 0.01, K2 0.03, data range 1): differentiable, so
    structure and contrast can be trained for directly, not only through per-pixel L1."""
    a, b = (a.float() + 1) / 2, (b.float() + 1) / 2
    channels = a.shape[1]
    horizontal = window.to(a.device).view(1, 1, 1, -1).repeat(channels, 1, 1, 1)  # separable blur
    vertical = horizontal.transpose(2, 3)
    blur = lambda x: F.conv2d(F.conv2d(x, horizontal, groups=channels), vertical, groups=channels)
    mean_a, mean_b = blur(a), blur(b)
    variance_a = blur(a * a) - mean_a**2
    variance_b = blur(b * b) - mean_b**2
    covariance = blur(a * b) - mean_a * mean_b
    c1, c2 = 0.01**2, 0.03**2
    ssim_map = ((2 * mean_a * mean_b + c1) * (2 * covariance + c2)) / (
        (mean_a**2 + mean_b**2 + c1) * (variance_a + variance_b + c2))
    return ssim_map.mean()


def generator_channels(size):
    """Base width of the U-Net: wider at small sizes, where a convolution is cheap."""
    return 32 if size <= 128 else 16


def build_generator(size, model_args):
    return UNet(size, base_channels=model_args["base_channels"], attention=model_args["attention"],
                canvas_channels=model_args["canvas_channels"])


class GANTraining:
    """One pix2pix optimisation step: (1) update D on real and generated pairs, (2) update G."""

    name = "gan"
    input_kind = "image"

    def __init__(self, size, device, args):
        self.size, self.device = size, device
        self.model_args = {"base_channels": generator_channels(size), "attention": not args.no_attention,
                           "canvas_channels": 4, "disc_channels": 16,
                           "l1_weight": args.l1_weight, "feature_weight": args.feature_weight,
                           "ssim_weight": args.ssim_weight}
        generator = build_generator(size, self.model_args).to(device)
        discriminator = PatchDiscriminator(base_channels=self.model_args["disc_channels"]).to(device)
        self.networks = {"generator": wrap_distributed(generator, device),
                         "discriminator": wrap_distributed(discriminator, device)}
        # Separate learning rates (TTUR): the critic learns faster so it keeps up with the generator.
        self.optimizers = {
            "generator": torch.optim.Adam(generator.parameters(), lr=args.lr, betas=(0.5, 0.999)),
            "discriminator": torch.optim.Adam(discriminator.parameters(), lr=args.lr * args.d_lr_ratio, betas=(0.5, 0.999)),
        }

    def training_step(self, skeleton_images, real):
        """skeleton_images, real: (B, 3, S, S) in [-1, 1]; returns the step's losses."""
        generator, discriminator = self.networks["generator"], self.networks["discriminator"]
        with autocast_for(self.device):
            fake = generator(skeleton_images)  # (B, 3, S, S)

            # (1) update D: hinge loss on real and generated pairs, in one pass through the critic
            scores, features = discriminator(skeleton_images.repeat(2, 1, 1, 1), torch.cat([real, fake.detach()]))
            real_scores, fake_scores = scores.float().chunk(2)  # (B, 1, h, w) each
            loss_d = F.relu(1 - real_scores).mean() + F.relu(1 + fake_scores).mean()
        self.optimizers["discriminator"].zero_grad(set_to_none=True)
        loss_d.backward()
        self.optimizers["discriminator"].step()
        real_features = [f.detach().chunk(2)[0] for f in features]

        # (2) update G: fool the critic, match its features on real pairs, and stay close in L1.
        # The plain module is used with frozen weights, so no gradient reaches D (nor its DDP hooks).
        critic = unwrap(discriminator)
        critic.requires_grad_(False)
        with autocast_for(self.device):
            fake_scores, fake_features = critic(skeleton_images, fake)
            loss_adversarial = -fake_scores.float().mean()
            loss_features = sum(F.l1_loss(f.float(), r.float()) for f, r in zip(fake_features, real_features)) / len(fake_features)
            loss_l1 = F.l1_loss(fake.float(), real)
            loss_ssim = 1 - ssim(fake, real)
            loss_g = (loss_adversarial + self.model_args["l1_weight"] * loss_l1
                      + self.model_args["feature_weight"] * loss_features
                      + self.model_args["ssim_weight"] * loss_ssim)
        self.optimizers["generator"].zero_grad(set_to_none=True)
        loss_g.backward()
        self.optimizers["generator"].step()
        critic.requires_grad_(True)
        return {"d": loss_d.item(), "g_adv": loss_adversarial.item(), "l1": loss_l1.item(), "fm": loss_features.item(),
                "ssim": loss_ssim.item()}


class GenGAN(TrainedGenerator):
    """The trained GAN generator: `GenGAN(checkpoint_or_target).generate(skeleton)` -> BGR image."""

    name = "gan"

    @staticmethod
    def build_network(size, model_args):
        return build_generator(size, model_args)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Train the conditional GAN (pix2pix: U-Net generator, patch discriminator) on a target video. "
                    "Default size: 256 on a GPU, 128 on CPU (a 2-core CPU trains 128x128 several times faster).")
    add_training_arguments(parser, default_size=256, sizes=SIZES)
    parser.add_argument("--d-lr-ratio", type=float, default=2.0, help="discriminator lr / generator lr (default 2)")
    parser.add_argument("--l1-weight", type=float, default=50.0, help="weight of the L1 loss (default 50)")
    parser.add_argument("--feature-weight", type=float, default=10.0, help="weight of feature matching (default 10)")
    parser.add_argument("--ssim-weight", type=float, default=10.0, help="weight of the SSIM loss (default 10)")
    parser.add_argument("--no-attention", action="store_true", help="no self-attention at 8x8")
    args = parser.parse_args(argv)
    return args


def main(argv=None):
    run_training(GANTraining, parse_args(argv), default_size=256, cpu_default_size=128)


if __name__ == "__main__":
    main()

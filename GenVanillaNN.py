"""Plain regression generators (course GEN_TYPE 2 and 3), trained with L1 losses only.

    variant "vector" (course 2): the 26-D reduced skeleton -> image, through an upsampling decoder
    variant "image"  (course 3): the drawn skeleton image -> image, through an encoder-decoder
                                 (no skip connections: the GAN's U-Net is the step up from this)

Both output the person's colour and an alpha; the image is the person over the target's scene
(networks.composite), the L1 is taken on that image and alpha is pulled towards the cached person
masks. They are the baselines the GAN is measured against: the same data, split, budget and
building blocks (networks.py), without the adversarial critic.

    python GenVanillaNN.py ../shared/data/taichi2.mp4 --variant vector --minutes 20
    python GenVanillaNN.py ../shared/data/taichi2.mp4 --variant image --size 64 --epochs 5
    python GenVanillaNN.py ../shared/data/taichi2.mp4 false 2      # the course form: 1 = vector, 2 = image
"""
import argparse

import torch

from networks import UNet, VectorDecoder
from training import (TrainedGenerator, TrainingMethod, add_training_arguments, autocast_for, reconstruction,
                      run_training, wrap_distributed)

SIZES = (64, 128, 256)
VARIANTS = ("vector", "image")
COURSE_VARIANTS = {"1": "vector", "2": "image"}  # the course's optSkeOrImage


def build_network(size, model_args):
    """The network: person RGB and alpha (B, 4, S, S) from the skeleton vector or drawing."""
    if model_args["variant"] == "vector":
        return VectorDecoder(size, out_channels=4, base_channels=model_args["base_channels"],
                             output_upsampling=model_args["output_upsampling"])
    return UNet(size, out_channels=4, base_channels=model_args["base_channels"], canvas_channels=0, attention=False,
                skip_connections=False, output_upsampling=model_args["output_upsampling"])


class VanillaTraining(TrainingMethod):
    """One L1 regression step on (skeleton, person over the scene) pairs, alpha on the masks."""

    input_kind = None

    def __init__(self, size, device, args, target):
        self.name = f"vanilla-{args.variant}"
        self.input_kind = args.variant
        self.size, self.device = size, device
        self.model_args = {"variant": args.variant, "base_channels": 32 if size <= 128 else 16,
                           "output_upsampling": "subpixel", "composite": target.scene().registrable}
        self.mask_weight = args.mask_weight
        network = build_network(size, self.model_args).to(device)
        self.networks = {"generator": wrap_distributed(network, device)}
        self.optimizers = {"generator": torch.optim.Adam(network.parameters(), lr=args.lr, betas=(0.5, 0.999))}

    def training_step(self, batch):
        """batch.inputs: (B, 26) or (B, 3, S, S); images (B, 3, S, S) in [-1, 1]."""
        with autocast_for(self.device):
            _, loss_l1, loss_mask = reconstruction(self.networks["generator"](batch.inputs), batch)
            loss = loss_l1 + self.mask_weight * loss_mask
        self.optimizers["generator"].zero_grad(set_to_none=True)
        loss.backward()
        self.optimizers["generator"].step()
        return {"l1": loss_l1.item(), "mask": loss_mask.item()}


class GenVanillaNN(TrainedGenerator):
    """A trained vanilla generator: `GenVanillaNN(target, checkpoint).generate(skeleton)` -> BGR image.

    variant: "vector" or "image", the one the checkpoint must hold (default: either). Course form:
    `GenVanillaNN(video_skeleton, optSkeOrImage=1 or 2)` loads that target's default checkpoint of
    variant vector (1) or image (2).
    """

    name = "vanilla-vector"
    names = ("vanilla-vector", "vanilla-image")

    def __init__(self, target=None, checkpoint=None, device=None, variant=None, optSkeOrImage=None):
        variant = variant or COURSE_VARIANTS.get(str(optSkeOrImage))
        super().__init__(target, checkpoint, device, names=[f"vanilla-{variant}"] if variant else None)

    @classmethod
    def accepted_names(cls):
        return list(cls.names)

    @staticmethod
    def build_network(size, model_args):
        return build_network(size, model_args)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        allow_abbrev=False,
        description="Train a vanilla generator (L1 regression) from the 26-D skeleton (vector) or from "
                    "the drawn skeleton image (image).",
        epilog="Course form: GenVanillaNN.py TARGET false 1|2  (1 = vector, 2 = image).")
    add_training_arguments(parser, default_size=128, sizes=SIZES, mask_weight=1.0)
    parser.add_argument("--variant", choices=VARIANTS, default=None, help="vector or image (default vector)")
    args = parser.parse_args(argv)
    if args.legacy:
        if len(args.legacy) != 2 or args.legacy[1] not in COURSE_VARIANTS:
            parser.error("course form: GenVanillaNN.py TARGET false 1|2")
        args.variant = args.variant or COURSE_VARIANTS[args.legacy[1]]
    args.variant = args.variant or "vector"
    return args


def main(argv=None):
    args = parse_args(argv)
    factory = lambda size, device, options, target: VanillaTraining(size, device, options, target)
    factory.name = f"vanilla-{args.variant}"
    run_training(factory, args, default_size=128)


if __name__ == "__main__":
    main()

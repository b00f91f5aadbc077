"""Network building blocks shared by GenVanillaNN and GenGAN: U-Net, vector decoder, patch critic.

Everything is sized for a 2-core CPU first: channels stay small at high resolution, where a
convolution costs the most, and grow only where the image is small. Upsampling is
nearest-neighbour resize followed by a 3x3 convolution ("resize-convolution"), which avoids the
checkerboard artefacts of transposed convolutions.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import spectral_norm


def channels_at(level, base_channels, max_channels):
    """Channel count at a U-Net level (level 0 = full resolution): doubles per level, capped."""
    return min(base_channels * 2**level, max_channels)


def output_head(in_channels, out_channels, upsampling):
    """The last doubling, S/2 -> S, to an image in [-1, 1].

    "resize": nearest resize then a 3x3 convolution to RGB: no checkerboard, and cheap since only
    3 channels are computed at full resolution. "subpixel": a convolution predicts each 2x2 block
    (pixel shuffle), cheaper still but prone to a fine checkerboard; the vanilla baselines use it.
    """
    if upsampling == "resize":
        return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                             nn.Conv2d(in_channels, out_channels, 3, padding=1), nn.Tanh())
    return nn.Sequential(nn.Conv2d(in_channels, out_channels * 4, 3, padding=1), nn.PixelShuffle(2), nn.Tanh())


def down_block(in_channels, out_channels, norm=True):
    """Halve the resolution: 4x4 stride-2 convolution, batch norm, LeakyReLU."""
    layers = [nn.Conv2d(in_channels, out_channels, 4, stride=2, padding=1, bias=not norm)]
    if norm:
        layers.append(nn.BatchNorm2d(out_channels))
    layers.append(nn.LeakyReLU(0.2, inplace=True))
    return nn.Sequential(*layers)


class UpBlock(nn.Module):
    """Double the resolution and merge the encoder's skip features.

    Channels are reduced by a 1x1 convolution while the map is still small, then the map is
    resized (nearest) and one 3x3 convolution mixes it with the skip: most of the cost of a
    U-Net decoder sits in its high-resolution convolutions, so only one is spent per level.
    """

    def __init__(self, in_channels, skip_channels, out_channels):
        super().__init__()
        self.reduce = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.merge = nn.Sequential(
            nn.Conv2d(out_channels + skip_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )

    def forward(self, x, skip):
        x = F.interpolate(self.reduce(x), scale_factor=2, mode="nearest")  # (B, out, 2H, 2W)
        return self.merge(x if skip is None else torch.cat([x, skip], dim=1))


class SelfAttention(nn.Module):
    """SAGAN-style self-attention: lets far-apart body parts agree (both arms, both legs).
    Used only at the lowest resolution, where it is cheap."""

    def __init__(self, channels):
        super().__init__()
        self.query = nn.Conv2d(channels, channels // 8, 1)
        self.key = nn.Conv2d(channels, channels // 8, 1)
        self.value = nn.Conv2d(channels, channels, 1)
        self.gamma = nn.Parameter(torch.zeros(1))  # starts as identity

    def forward(self, x):
        batch, channels, height, width = x.shape
        q = self.query(x).flatten(2).transpose(1, 2)  # (B, HW, C/8)
        k = self.key(x).flatten(2)  # (B, C/8, HW)
        v = self.value(x).flatten(2)  # (B, C, HW)
        attention = torch.softmax(q @ k / math.sqrt(q.shape[-1]), dim=-1)  # (B, HW, HW)
        out = (v @ attention.transpose(1, 2)).view(batch, channels, height, width)
        return x + self.gamma * out


class UNet(nn.Module):
    """Skeleton image (B, 3, S, S) -> person image (B, 3, S, S) in [-1, 1].

    The encoder halves the resolution down to 8x8; the decoder climbs back with skip connections
    so the thin limbs of the skeleton image land exactly where they were drawn. A learned
    full-resolution `canvas` is fed in beside the skeleton: the background and the person's
    appearance, common to every frame, are stored there instead of being re-derived by the
    convolutions from a black image.
    """

    def __init__(self, size=128, in_channels=3, out_channels=3, base_channels=16, max_channels=256,
                 canvas_channels=4, attention=True, skip_connections=True, output_upsampling="resize"):
        super().__init__()
        self.skip_connections = skip_connections
        n_levels = int(math.log2(size // 8))  # number of halvings: 128 -> 4, 256 -> 5
        self.canvas = nn.Parameter(torch.zeros(1, canvas_channels, size, size)) if canvas_channels else None
        channels = [channels_at(level, base_channels, max_channels) for level in range(n_levels)]
        self.downs = nn.ModuleList()
        previous = in_channels + canvas_channels
        for level, out in enumerate(channels):
            self.downs.append(down_block(previous, out, norm=level > 0))
            previous = out
        self.bottleneck = nn.Sequential(
            nn.Conv2d(previous, previous, 3, padding=1, bias=False), nn.BatchNorm2d(previous), nn.ReLU(inplace=True),
            SelfAttention(previous) if attention else nn.Identity(),
        )
        self.ups = nn.ModuleList()
        for level in reversed(range(n_levels - 1)):  # from 8x8 up to S/2
            self.ups.append(UpBlock(previous, channels[level] if skip_connections else 0, channels[level]))
            previous = channels[level]
        self.to_image = output_head(previous, out_channels, output_upsampling)  # (B, 3, S, S)

    def forward(self, skeleton_image):
        x = skeleton_image  # (B, 3, S, S)
        if self.canvas is not None:
            x = torch.cat([x, self.canvas.expand(x.shape[0], -1, -1, -1)], dim=1)  # (B, 3+canvas, S, S)
        skips = []
        for down in self.downs:
            x = down(x)  # (B, C_l, S/2^(l+1), S/2^(l+1))
            skips.append(x)
        x = self.bottleneck(x)  # (B, C, 8, 8)
        for up, skip in zip(self.ups, reversed(skips[:-1])):
            x = up(x, skip if self.skip_connections else None)  # (B, C_l, 2H, 2W)
        return self.to_image(x)  # (B, 3, S, S)


class VectorDecoder(nn.Module):
    """Reduced skeleton (B, 26) -> person image (B, 3, S, S) in [-1, 1].

    A linear layer lays the pose out on a 4x4 grid of features, then resize-convolutions double
    it up to S/2 and `output_head` makes the full-size image.
    """

    def __init__(self, size=128, in_features=26, base_channels=16, max_channels=256, output_upsampling="resize"):
        super().__init__()
        n_levels = int(math.log2(size // 4)) - 1  # doublings from 4x4 to S/2
        channels = [channels_at(level, base_channels, max_channels) for level in reversed(range(n_levels + 1))]
        self.start_channels = channels[0]
        self.embed = nn.Sequential(nn.Linear(in_features, channels[0] * 16), nn.ReLU(inplace=True))
        self.ups = nn.ModuleList(UpBlock(c_in, 0, c_out) for c_in, c_out in zip(channels[:-1], channels[1:]))
        self.to_image = output_head(channels[-1], 3, output_upsampling)

    def forward(self, reduced_skeleton):
        x = self.embed(reduced_skeleton).view(-1, self.start_channels, 4, 4)  # (B, C, 4, 4)
        for up in self.ups:
            x = up(x, None)  # (B, C_l, 2H, 2W)
        return self.to_image(x)  # (B, 3, S, S)


class PatchDiscriminator(nn.Module):
    """Conditional patch critic: (skeleton image, person image) -> a grid of real/fake scores.

    Each score judges one patch (70x70 pixels for 3 layers), so the critic pushes for sharp local
    texture while L1 takes care of the overall layout. Spectral normalisation keeps it Lipschitz
    and training stable without normalisation layers.
    """

    def __init__(self, in_channels=6, base_channels=16, n_layers=3, max_channels=128):
        super().__init__()
        layers, previous = [], in_channels
        for level in range(n_layers):
            out = channels_at(level, base_channels, max_channels)
            layers += [spectral_norm(nn.Conv2d(previous, out, 4, stride=2, padding=1)), nn.LeakyReLU(0.2, inplace=True)]
            previous = out
        out = channels_at(n_layers, base_channels, max_channels)
        layers += [spectral_norm(nn.Conv2d(previous, out, 4, padding=1)), nn.LeakyReLU(0.2, inplace=True)]
        self.features = nn.ModuleList(layers)
        self.score = spectral_norm(nn.Conv2d(out, 1, 4, padding=1))

    def forward(self, skeleton_image, person_image):
        """Returns (scores (B, 1, h, w), list of intermediate features for feature matching)."""
        x = torch.cat([skeleton_image, person_image], dim=1)  # (B, 6, S, S)
        features = []
        for layer in self.features:
            x = layer(x)
            if isinstance(layer, nn.LeakyReLU):
                features.append(x)
        return self.score(x), features


def count_parameters(module):
    return sum(p.numel() for p in module.parameters())

"""Network building blocks shared by GenVanillaNN and GenGAN: U-Net, vector decoder, patch critic,
and the exemplar warper the GAN's generator is.

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


def output_head(in_channels, out_channels, upsampling, resize_mode="nearest"):
    """The last doubling, S/2 -> S, to an image in [-1, 1].

    "resize": resize (`resize_mode`) then a 3x3 convolution to RGB: no checkerboard, and cheap
    since only 3 channels are computed at full resolution. "subpixel": a convolution predicts each 2x2 block
    (pixel shuffle), cheaper still but prone to a fine checkerboard; the vanilla baselines use it.
    """
    if upsampling == "resize":
        return nn.Sequential(nn.Upsample(scale_factor=2, mode=resize_mode),
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

    def __init__(self, in_channels, skip_channels, out_channels, upsampling="nearest"):
        super().__init__()
        self.upsampling = upsampling
        self.reduce = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.merge = nn.Sequential(
            nn.Conv2d(out_channels + skip_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )

    def forward(self, x, skip):
        x = F.interpolate(self.reduce(x), scale_factor=2, mode=self.upsampling)  # (B, out, 2H, 2W)
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
    """Skeleton image (B, 3, S, S) -> image (B, out_channels, S, S) in [-1, 1] (person RGB and alpha
    for a generator that composites, see `composite`).

    The encoder halves the resolution down to 8x8; the decoder climbs back with skip connections
    so the thin limbs of the skeleton image land exactly where they were drawn. A learned
    full-resolution `canvas` is fed in beside the skeleton: the background and the person's
    appearance, common to every frame, are stored there instead of being re-derived by the
    convolutions from a black image.

    With `full_resolution_channels` > 0, a 3x3 stem works at full resolution and the decoder
    climbs one level further, back to it, with that stem as its skip: every output pixel is then
    computed at its own resolution rather than upsampled from S/2, which is what keeps a face a
    few pixels wide sharp (MediaPipe does not find a person whose face is blurred by even one pixel).
    `upsampling` "bilinear" avoids the 2x2 blocks that nearest upsampling stacks into a dotted texture.
    """

    def __init__(self, size=128, in_channels=3, out_channels=3, base_channels=16, max_channels=256,
                 canvas_channels=4, attention=True, skip_connections=True, output_upsampling="resize",
                 full_resolution_channels=0, upsampling="nearest"):
        super().__init__()
        self.skip_connections = skip_connections
        n_levels = int(math.log2(size // 8))  # number of halvings: 128 -> 4, 256 -> 5
        self.canvas = nn.Parameter(torch.zeros(1, canvas_channels, size, size)) if canvas_channels else None
        channels = [channels_at(level, base_channels, max_channels) for level in range(n_levels)]
        previous = in_channels + canvas_channels
        self.stem = None
        if full_resolution_channels:
            self.stem = nn.Sequential(nn.Conv2d(previous, full_resolution_channels, 3, padding=1),
                                      nn.LeakyReLU(0.2, inplace=True))
            previous = full_resolution_channels
        self.downs = nn.ModuleList()
        for level, out in enumerate(channels):
            self.downs.append(down_block(previous, out, norm=level > 0))
            previous = out
        self.bottleneck = nn.Sequential(
            nn.Conv2d(previous, previous, 3, padding=1, bias=False), nn.BatchNorm2d(previous), nn.ReLU(inplace=True),
            SelfAttention(previous) if attention else nn.Identity(),
        )
        self.ups = nn.ModuleList()
        for level in reversed(range(n_levels - 1)):  # from 8x8 up to S/2
            self.ups.append(UpBlock(previous, channels[level] if skip_connections else 0, channels[level], upsampling))
            previous = channels[level]
        if self.stem is None:
            self.to_image = output_head(previous, out_channels, output_upsampling, upsampling)  # (B, 3, S, S)
        else:  # S/2 -> S with the stem as skip, then RGB at full resolution
            self.ups.append(UpBlock(previous, full_resolution_channels, full_resolution_channels, upsampling))
            self.to_image = nn.Sequential(nn.Conv2d(full_resolution_channels, out_channels, 3, padding=1), nn.Tanh())

    def forward(self, skeleton_image):
        x = skeleton_image  # (B, 3, S, S)
        if self.canvas is not None:
            x = torch.cat([x, self.canvas.expand(x.shape[0], -1, -1, -1)], dim=1)  # (B, 3+canvas, S, S)
        skips = []
        if self.stem is not None:
            x = self.stem(x)  # (B, F, S, S)
            skips.append(x)
        for down in self.downs:
            x = down(x)  # (B, C_l, S/2^(l+1), S/2^(l+1))
            skips.append(x)
        x = self.bottleneck(x)  # (B, C, 8, 8)
        for up, skip in zip(self.ups, reversed(skips[:-1])):
            x = up(x, skip if self.skip_connections else None)  # (B, C_l, 2H, 2W)
        return self.to_image(x)  # (B, out_channels, S, S)


class VectorDecoder(nn.Module):
    """Reduced skeleton (B, 26) -> image (B, out_channels, S, S) in [-1, 1] (person RGB and alpha
    for a generator that composites, see `composite`).

    A linear layer lays the pose out on a 4x4 grid of features, then resize-convolutions double
    it up to S/2 and `output_head` makes the full-size image.
    """

    def __init__(self, size=128, in_features=26, out_channels=3, base_channels=16, max_channels=256,
                 output_upsampling="resize"):
        super().__init__()
        n_levels = int(math.log2(size // 4)) - 1  # doublings from 4x4 to S/2
        channels = [channels_at(level, base_channels, max_channels) for level in reversed(range(n_levels + 1))]
        self.start_channels = channels[0]
        self.embed = nn.Sequential(nn.Linear(in_features, channels[0] * 16), nn.ReLU(inplace=True))
        self.ups = nn.ModuleList(UpBlock(c_in, 0, c_out) for c_in, c_out in zip(channels[:-1], channels[1:]))
        self.to_image = output_head(channels[-1], out_channels, output_upsampling)

    def forward(self, reduced_skeleton):
        x = self.embed(reduced_skeleton).view(-1, self.start_channels, 4, 4)  # (B, C, 4, 4)
        for up in self.ups:
            x = up(x, None)  # (B, C_l, 2H, 2W)
        return self.to_image(x)  # (B, out_channels, S, S)


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


def composite(output, background):
    """A generator's output over the scene: output (B, 4, S, S) = person RGB and alpha, in [-1, 1];
    background (B, 3, S, S) in [-1, 1], or None when the scene is unknown (the person's colour is
    then the whole image). Returns (image (B, 3, S, S) in [-1, 1], alpha (B, 1, S, S) in [0, 1])."""
    person, alpha = output[:, :3], (output[:, 3:4] + 1) / 2
    if background is None:
        return person, torch.ones_like(alpha)
    return alpha * person + (1 - alpha) * background.to(person.dtype), alpha


def count_parameters(module):
    return sum(p.numel() for p in module.parameters())


PERSON_HALF_WIDTH = 1 / 20  # of the crop side: about half a loose sleeve's or trouser leg's width
# in a VideoSkeleton crop (a body about as tall as the crop); see ExemplarWarper.paint_person


ALPHA_PRIOR = 4.0  # alpha logit of the exemplar's own mask moved by the warp: sigmoid(+-4) = 0.98 / 0.02 ...
ALPHA_REACH = 8.0  # ... to which the network adds up to +-this: it can turn any pixel on or off
CARRY_PRIOR = -2.0  # a temporal warper's logit of how much of its previous frame it keeps: it starts at
# sigmoid(-2) = 0.12, near the frame-by-frame generator, and learns where more of the past helps
CARRY_REACH = 6.0  # ... to which the network adds up to +-this


def carried_layers(previous):
    """(B, 6, S, S) previous frame's person RGB and alpha in [-1, 1] and the motion grid (where each
    pixel of this frame was in it, grid_sample's x, y) -> (B, 4, S, S): its premultiplied colour and
    alpha in [0, 1] moved onto this frame. Outside the previous frame nothing is carried (alpha 0)."""
    colour, alpha = (previous[:, :3] + 1) / 2, (previous[:, 3:4] + 1) / 2
    motion = previous[:, 4:6].permute(0, 2, 3, 1)  # (B, S, S, 2)
    return F.grid_sample(torch.cat([colour * alpha, alpha], dim=1), motion.to(colour.dtype),
                         padding_mode="zeros", align_corners=False)


class ExemplarWarper(nn.Module):
    """(drawn pose, exemplar crop, exemplar mask, pose-guided sampling grid) (B, 3 + 3r^2 + 1 + 2, S, S)
    -> person colour and alpha (B, 4, S, S) in [-1, 1] (see `composite`).

    The sampling grid moves each body part of the exemplar onto the asked pose (computed from the
    two skeletons, see GenGAN.pose_guided_grid). A U-Net sees the drawn pose, the exemplar so
    warped, its person mask so warped, and the exemplar as it is, and predicts per pixel a
    correction to the grid (a residual flow), how much to trust the fetched pixel, a synthesised
    colour for what the exemplar does not show, and a correction to the alpha. Alpha starts as the
    exemplar's own person mask carried by the corrected warp, so the person is cut out of the
    exemplar from the first step and its background is never carried along; the scene behind comes
    from the target's background (`composite`). Pixels moved rather than painted stay sharp: the
    output starts as the guided warp itself (residual 0, trust near 1).

    Painting is learned everywhere in training, where it takes the pixels the exemplar cannot
    explain so that the flow is not bent to fit them. When generating, by default it is kept off the
    person (`paint_person=False`): within PERSON_HALF_WIDTH of the drawn skeleton every pixel is
    fetched. The painted colour is a blur (a mean of what might be there), and on a person it is
    what MediaPipe misreads. Every pixel (colour and the mask alpha starts from) is then fetched by
    the guided grid alone: the residual flow is learned together with the painting, and where the
    network paints in training nothing checks its flow; fetched through it, the person bends
    (RESULTS: "The person by the guided warp").

    `temporal`: the warper also takes its own previous frame (`forward(inputs, previous)`), moved onto
    this frame by the motion between the two poses (`carried_layers`), and learns per pixel how much
    of it to keep (vid2vid's flow-warped previous frame and blending mask, the flow here from the two
    skeletons). Without a previous frame (the first of a sequence, or a frame on its own) it is the
    frame-by-frame warper.
    """

    def __init__(self, size=128, max_shift=0.25, exemplar_scale=1, temporal=False, **unet_args):
        super().__init__()
        self.max_shift = max_shift  # largest correction, in units of half the image side
        self.exemplar_scale = exemplar_scale  # the exemplar comes at exemplar_scale x the output size
        self.temporal = temporal
        self.paint_person = True  # False (generation): near the drawn skeleton, every pixel is fetched,
        # by the guided grid without the residual flow
        # in: drawn pose 3, warped exemplar 3, exemplar 3, warped mask 1 (+ carried colour 3 and alpha 1);
        # out: flow 2, trust 1, colour 3, alpha 1 (+ how much of the carried frame to keep 1)
        self.unet = UNet(size, in_channels=14 if temporal else 10, out_channels=8 if temporal else 7, **unet_args)
        last = self.unet.to_image[-2]
        with torch.no_grad():  # start as the guided warp, trusted everywhere, alpha the warped mask
            last.weight[:3].zero_()
            last.weight[6:].zero_()
            last.bias[:2].zero_()
            last.bias[2].fill_(2.0)  # trust = (tanh(2) + 1) / 2 = 0.98
            last.bias[6:].zero_()

    @staticmethod
    def person_region(drawing):
        """(B, 3, S, S) drawn pose in [-1, 1] -> (B, 1, S, S): 1 within about PERSON_HALF_WIDTH of a
        drawn limb or joint (a square neighbourhood), 0 elsewhere. Found on a grid of at most 64x64
        blocks, then enlarged bilinearly (a max-pool that wide at full resolution is costly), so the
        edge between fetched and painted pixels is a ramp one block wide, not a seam of steps."""
        block = max(1, drawing.shape[-1] // 64)
        reach = max(1, round(PERSON_HALF_WIDTH * drawing.shape[-1] / block))  # in blocks
        drawn = (drawing.amax(dim=1, keepdim=True) > -0.9).to(drawing.dtype)  # the background is black (-1)
        drawn = F.max_pool2d(drawn, block) if block > 1 else drawn  # (B, 1, S / block, S / block)
        near = F.max_pool2d(drawn, 2 * reach + 1, stride=1, padding=reach)
        return F.interpolate(near, size=drawing.shape[-2:], mode="bilinear", align_corners=False) if block > 1 else near

    @staticmethod
    def input_channels(exemplar_scale):
        """Channels of the input: drawn pose 3, exemplar 3 x scale^2 (space-to-depth), its mask 1, grid 2."""
        return 3 + 3 * exemplar_scale ** 2 + 1 + 2

    def split_inputs(self, inputs):
        """(B, C, S, S) -> drawn pose (B, 3, S, S), exemplar (B, 3, rS, rS), exemplar mask (B, 1, S, S)
        in [0, 1], grid (B, S, S, 2).

        The exemplar travels at exemplar_scale x the output size, folded into channels, because
        pixels fetched from the sharper source keep the output sharp: sampling an exemplar first
        shrunk to the output size blurs it once more, and MediaPipe misreads blurred people.
        """
        r = self.exemplar_scale
        colour_end = 3 + 3 * r * r
        exemplar = F.pixel_shuffle(inputs[:, 3:colour_end], r) if r > 1 else inputs[:, 3:6]
        mask = inputs[:, colour_end:colour_end + 1]
        return inputs[:, :3], exemplar, mask, inputs[:, colour_end + 1:colour_end + 3].permute(0, 2, 3, 1)

    def forward(self, inputs, previous=None):
        """inputs (B, 3 + 3r^2 + 1 + 2, S, S); previous (temporal only): (B, 6, S, S), the previous
        frame's output and the motion grid (see `carried_layers`), or None."""
        drawing, source, source_mask, guide = self.split_inputs(inputs)  # guide: x, y in [-1, 1]
        exemplar = F.avg_pool2d(source, self.exemplar_scale) if self.exemplar_scale > 1 else source  # (B, 3, S, S)
        warped = F.grid_sample(source, guide, padding_mode="border", align_corners=False)  # (B, 3, S, S)
        warped_mask = F.grid_sample(source_mask, guide, padding_mode="zeros", align_corners=False)  # (B, 1, S, S)
        seen = [drawing, warped, exemplar, warped_mask]
        if self.temporal:
            carried = (carried_layers(previous) if previous is not None
                       else drawing.new_zeros(drawing.shape[0], 4, *drawing.shape[2:]))  # (B, 4, S, S) in [0, 1]
            seen.append(2 * carried - 1)
        out = self.unet(torch.cat(seen, dim=1))  # (B, 7 or 8, S, S) in [-1, 1]
        flow, trust, colour = out[:, :2] * self.max_shift, (out[:, 2:3] + 1) / 2, out[:, 3:6]
        corrected = guide + flow.permute(0, 2, 3, 1).to(guide.dtype) if self.paint_person else guide
        fetched = F.grid_sample(source, corrected, padding_mode="border", align_corners=False)  # (B, 3, S, S)
        fetched_mask = F.grid_sample(source_mask, corrected, padding_mode="zeros", align_corners=False)
        alpha = torch.sigmoid(ALPHA_PRIOR * (2 * fetched_mask - 1) + ALPHA_REACH * out[:, 6:7])  # (B, 1, S, S)
        if not self.paint_person:
            trust = torch.maximum(trust, self.person_region(drawing))
        person = trust * fetched + (1 - trust) * colour
        if self.temporal and previous is not None:  # keep some of the previous frame, blended premultiplied
            keep = torch.sigmoid(CARRY_PRIOR + CARRY_REACH * out[:, 7:8])  # (B, 1, S, S)
            blended_alpha = keep * carried[:, 3:] + (1 - keep) * alpha
            premultiplied = keep * carried[:, :3] + (1 - keep) * alpha * (person + 1) / 2
            person = (2 * premultiplied / blended_alpha.clamp_min(1e-3) - 1).clamp(-1, 1)
            alpha = blended_alpha
        return torch.cat([person, 2 * alpha - 1], dim=1)  # (B, 4, S, S)

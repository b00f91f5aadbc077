"""The generators: what every one of them is, and the registry of them (course number, name, how to
load it, how to train it).

Every generator draws the target person in asked poses and has this interface (`Generator`):
    name, size (side of its square images), target (the target's VideoSkeleton), target_name,
    composites (whether its person is drawn over the target's scene, with an alpha),
    generate_layers(skeletons, sequence=False) -> (person (N, S, S, 3) uint8 BGR, alpha (N, S, S) or None),
    generate(skeleton, view=None), generate_batch(skeletons, views=None),
    generate_sequence(skeletons, views=None) -> the person over the scene of each view (scene.View),
    budget() -> what making it cost (a dict, for Evaluate).
A new generator subclasses `Generator`, writes `generate_layers` (and the attributes), and is added
with `register(...)`: DanceDemo, Evaluate and bench then know it by name and number.

    load_generator("gan", target)           # the target's default checkpoint, data/models/<target>/gan.pt
    load_generator(1, target)               # the course's GEN_TYPE 1: nearest neighbour
"""
import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

from paths import shown_path, shown_python


class GeneratorError(Exception):
    """An unknown generator, or one that cannot be loaded; the message is one line meant for the user."""


class Generator:
    """The interface every generator has, with the parts that follow from `generate_layers`."""

    name = None
    size = None  # side of the square images generated
    target = None  # the target's VideoSkeleton
    composites = False  # True: the person has an alpha and is drawn over the target's scene

    @property
    def target_name(self):
        return self.target.name

    def generate_layers(self, skeletons, sequence=False):
        """(person (N, S, S, 3) uint8 BGR, alpha (N, S, S) float32 in [0, 1], or None if the generator
        does not composite). sequence: the skeletons are the consecutive frames of one sequence."""
        raise NotImplementedError

    def generate(self, skeleton, view=None):
        """The target in the pose `skeleton` over the scene of `view` (the typical view by default):
        (S, S, 3) uint8 BGR."""
        return self.generate_batch([skeleton], [view])[0]

    def generate_batch(self, skeletons, views=None):
        """(N, S, S, 3) uint8 BGR: `generate` for each skeleton, each on its own."""
        return self.target.over_scene(*self.generate_layers(skeletons), views)

    def generate_sequence(self, skeletons, views=None):
        """(N, S, S, 3) uint8 BGR for the consecutive frames of a sequence (as DanceDemo generates)."""
        return self.target.over_scene(*self.generate_layers(skeletons, sequence=True), views)

    def budget(self):
        """What making the generator cost (Evaluate's "training budget" column)."""
        return {"kind": "none"}


@dataclass(frozen=True)
class Entry:
    """One generator of the registry."""
    name: str  # what --gen takes, and the checkpoint's file name: data/models/<target>/<name>.pt
    number: Optional[int]  # the course's GEN_TYPE (1-4), or None
    load: Callable  # load(target, checkpoint=None, device=None, hold_out=False, **options) -> Generator
    train: Optional[str] = None  # the script and options that train it ("{target}" is filled in); None: nothing to train
    options: tuple = field(default=())  # the generation options it takes (e.g. "paint_person"), each a --flag

    @property
    def trained(self):
        return self.train is not None

    def train_command(self, target):
        """The command line that trains this generator on `target` (as the user would type it)."""
        return f"{shown_python()} {self.train.format(target=shown_path(target.path_given))}"


REGISTRY = {}  # name -> Entry, in the order registered


def register(entry):
    """Add a generator (or replace the one of that name); returns the entry."""
    taken = [other.name for other in REGISTRY.values()
             if entry.number is not None and other.number == entry.number and other.name != entry.name]
    if taken:
        raise ValueError(f"generator number {entry.number} is already {taken[0]}'s")
    REGISTRY[entry.name] = entry
    return entry


def unregister(name):
    REGISTRY.pop(name, None)


def all_names():
    """Every registered generator's name, in the order registered."""
    return list(REGISTRY)


def described():
    """'1 nearest, 2 vanilla-vector, ...': the generators for a --help text."""
    return ", ".join(f"{entry.number} {entry.name}" if entry.number is not None else entry.name
                     for entry in REGISTRY.values())


def entry_of(gen):
    """The entry of a generator given by its course number (a number or text) or its name."""
    key = str(gen).strip().lower()
    for entry in REGISTRY.values():
        if key == entry.name or (entry.number is not None and key == str(entry.number)):
            return entry
    raise GeneratorError(f"unknown generator {gen!r}: give one of {described()}")


def generator_name(gen):
    """A course number (1-4, as a number or text) or a name -> the generator's name."""
    return entry_of(gen).name


def parse_checkpoints(items, asked):
    """--checkpoint values -> {name: path}. Each is NAME=PATH (NAME a course number or a name), or a
    bare PATH when exactly one generator is `asked` (names)."""
    checkpoints = {}
    for item in items or []:
        name, separator, path = item.partition("=")
        if not separator:
            if len(asked) != 1:
                raise GeneratorError(f"--checkpoint {item}: say which generator it is for, as NAME=PATH")
            name, path = asked[0], item
        entry = entry_of(name)
        if not path:
            raise GeneratorError(f"--checkpoint {item}: no path after '='")
        if not entry.trained:
            raise GeneratorError(f"the {entry.name} generator has no checkpoint (nothing to train)")
        checkpoints[entry.name] = path
    return checkpoints


def load_generator(gen, target, checkpoint=None, device=None, hold_out=False, **options):
    """The generator `gen` (number or name) of the target `target` (a VideoSkeleton), ready to generate.

    A trained generator loads `checkpoint`, or by default data/models/<target>/<name>.pt; a missing
    checkpoint, one of another generator or one trained on another target raises GeneratorError
    saying how to train the right one. hold_out: the generator may not draw on the target's held-out
    frames (Evaluate). options: generation options that this generator must declare (Entry.options).
    """
    from training import CheckpointError, default_checkpoint
    entry = entry_of(gen)
    for option in options:
        if option not in entry.options:
            takers = [other.name for other in REGISTRY.values() if option in other.options]
            raise GeneratorError(f"--{option.replace('_', '-')} is an option of {' and '.join(takers) or 'no generator'} "
                                 f"only, not of {entry.name}")
    if not entry.trained:
        if checkpoint:
            raise GeneratorError(f"the {entry.name} generator has no checkpoint (nothing to train): drop --checkpoint")
        return entry.load(target, hold_out=hold_out, **options)
    path = Path(checkpoint) if checkpoint else default_checkpoint(target, entry.name)
    train_command = entry.train_command(target) + (f" --checkpoint {checkpoint}" if checkpoint else "")
    if not path.is_file():
        raise GeneratorError(f"no trained {entry.name} for {target.name} ({checkpoint or shown_path(path)}); "
                             f"train one with: {train_command}")
    try:
        return entry.load(target, checkpoint=path, device=device, hold_out=hold_out, **options)
    except CheckpointError as error:
        raise GeneratorError(f"{error}; train one with: {train_command}") from None


# --- the generators of the course ----------------------------------------------------------------------
def trained(module, class_name, **fixed):
    """The loader of a trained generator class, imported when first used (torch takes seconds to import)."""
    def load(target, checkpoint=None, device=None, hold_out=False, **options):
        # hold_out: a trained generator never drew on the held-out frames
        generator_class = getattr(importlib.import_module(module), class_name)
        return generator_class(target, checkpoint=checkpoint, device=device, **fixed, **options)
    return load


def nearest(target, checkpoint=None, device=None, hold_out=False):
    """GenNearest, searching the training frames only when held-out frames must stay unseen."""
    from GenNearest import GenNearest
    from training import split_indices
    return GenNearest(target, indices=split_indices(len(target))[0] if hold_out else None)


register(Entry("nearest", 1, nearest))
register(Entry("vanilla-vector", 2, trained("GenVanillaNN", "GenVanillaNN", variant="vector"),
               train="GenVanillaNN.py {target} --variant vector --minutes 20"))
register(Entry("vanilla-image", 3, trained("GenVanillaNN", "GenVanillaNN", variant="image"),
               train="GenVanillaNN.py {target} --variant image --minutes 20"))
register(Entry("gan", 4, trained("GenGAN", "GenGAN"), train="GenGAN.py {target} --minutes 20",
               options=("paint_person", "no_mirror")))

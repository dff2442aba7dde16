"""Fine-tuning pairs by compositing (DistinctNet's fine-tuning data, without the reference code's bugs).

Each pair is a 2-frame video in the labelled-recording layout:

1. a background photo, randomly cropped/zoomed/flipped to the output size, the same in both frames;
2. a robot cut-out per frame, taken from a labelled-recording tree (rendered recordings or stage-1
   predictions on real ones): frame t for A and frame t+k (k in 1..max_gap) for B, so the robot really
   moves; one random scale/flip/shift for both frames;
3. a grasped object pasted in front of the gripper at the grasp point of each frame (from the recording's
   ``grasp_point`` meta when present, else found from the gripper mask), moving with it;
4. 0..n distractors pasted at different places in the two frames, behind or in front of the robot; optionally
   (``--distractor-near``) some start beside the gripper and move on their own, so that "moves at the gripper"
   is not enough to be the grasped object;
5. motion-stop pairs (a fraction): both frames identical, labels unchanged (``static_from`` = 1);
6. augmentations (synth/augment.py): per-region HSV shifts identical in both frames, optional repaint of the
   robot, optional soft shadows of everything pasted, cast by one light on the background, a median-blur blend
   along pasted edges, colour jitter / channel shuffle shared by both frames, noise and blur per frame.

Labels come from one label map per frame painted in depth order (0 background, 1 arm, 2 gripper,
3 object, 4 distractor), so occlusion is exact: robot = arm | gripper minus whatever is pasted in front of
it, object minus distractors in front of it.

Pair k draws everything from its own generator seeded with (seed, k): shards and resumed runs reproduce
exactly the same pairs.

    distinctnet synth composite OUT --robots ROOT [--objects DIR] [--backgrounds DIR] --num 50000 --workers 2
    python -m synth.composite OUT --robots ROOT --num 200 --sheet OUT/sheet.png     # the same, standalone
"""
from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from distinctnet import argtypes
from distinctnet.errors import fail
from distinctnet.layout import PART_NAMES, Recording, VideoWriter, is_finished, rebuild_meta

from .assets import (LRU, ObjectAsset, find_backgrounds, find_objects, load_background, load_rgba,
                     procedural_object, rotate_sprite)
from .augment import AugmentConfig, PairAugmenter, blend_edges, cast_shadow, repaint, shadow_light

BG, ARM, GRIPPER, OBJECT, DISTRACTOR = 0, 1, 2, 3, 4
SOURCE = "distinctnet synth composite"
GENERATOR = "composite"
MIN_SIDE, MAX_SIDE = 32, 4096


@dataclass(frozen=True)
class CompositeConfig:
    size: tuple[int, int] = (240, 416)               # output H, W
    static_fraction: float = 0.1                     # share of motion-stop pairs
    min_distractors: int = 0
    max_distractors: int = 2
    max_gap: int = 5                                 # frame B = frame t + k, k in 1..max_gap
    robot_scale: tuple[float, float] = (0.8, 1.3)    # x the scale that fits the source frame in the output
    robot_shift: float = 0.2                         # max shift, fraction of the output size
    flip_p: float = 0.5
    object_scale: tuple[float, float] = (0.8, 1.6)   # object's longer side / sqrt(gripper area)
    object_scale_robot: tuple[float, float] = (0.25, 0.45)  # same / sqrt(robot area) when no gripper mask
    grasp_push: float = 0.6                          # grasp = gripper centroid + push * (tip - centroid)
    procedural_object_p: float = 0.0                 # with --objects: chance of a procedural object anyway
    distractor_scale: tuple[float, float] = (0.1, 0.3)   # longer side / min(H, W)
    distractor_move: tuple[float, float] = (0.05, 0.25)  # displacement / min(H, W)
    distractor_behind_p: float = 0.3                 # chance a distractor is behind the robot and object
    distractor_near_p: float = 0.0                   # chance a distractor starts beside the gripper (hard negative)
    distractor_near: tuple[float, float] = (0.4, 0.9)    # its centre's distance from a gripper pixel / its size
    background_zoom: tuple[float, float] = (0.4, 1.0)    # crop side / largest crop of the output's aspect
    quality: int = 95                                # JPEG quality
    cache_mb: int = 256                              # decoded-image cache per process

    def check(self) -> "CompositeConfig":
        h, w = self.size
        if not (MIN_SIDE <= h <= MAX_SIDE and MIN_SIDE <= w <= MAX_SIDE):
            raise fail("--size", f"{h}x{w} is impossible: each side must be {MIN_SIDE}..{MAX_SIDE} pixels")
        if not 0 <= self.static_fraction <= 1:
            raise fail("--static-fraction", f"{self.static_fraction} is not in [0, 1]")
        if not 0 <= self.min_distractors <= self.max_distractors:
            raise fail("--max-distractors", f"need 0 <= min ({self.min_distractors}) <= max ({self.max_distractors})")
        if self.max_gap < 1:
            raise fail("--max-gap", "must be >= 1")
        if not 0 <= self.distractor_near_p <= 1:
            raise fail("--distractor-near", f"{self.distractor_near_p} is not in [0, 1]")
        return self


def parse_size(text: str) -> tuple[int, int]:
    return argtypes.parse_size(text, MIN_SIDE, MAX_SIDE)


parse_shard = argtypes.parse_shard


def pair_name(index: int) -> str:
    return f"pair_{index:06d}"


# ------------------------------------------------------------------------------------------ robot source
def grasp_point(robot: np.ndarray, gripper: np.ndarray, push: float = 0.6) -> tuple[float, float] | None:
    """(x, y) where a grasped object sits, from a frame's masks.

    With a gripper mask: the gripper's tip is the mean of its pixels farthest along the arm -> gripper
    direction (top 20 % of the projection range); the grasp point is the gripper centroid pushed ``push``
    of the way toward that tip. Robot mask only: the tip is the robot's part farthest from where it
    enters the image (its pixels on the image border; the image centre when none). None for an empty robot.
    """
    return grasp_pose(robot, gripper, push)[0]


def grasp_pose(robot: np.ndarray, gripper: np.ndarray, push: float = 0.6):
    """(grasp point, pointing direction): the point of :func:`grasp_point` and the unit vector (dx, dy)
    from the arm to the gripper (robot only: from where it enters the image to its tip), or None where
    it cannot be told."""
    ys, xs = np.nonzero(gripper)
    if len(xs):
        cg = np.array([xs.mean(), ys.mean()])
        ay, ax = np.nonzero(robot & ~gripper)
        d = cg - np.array([ax.mean(), ay.mean()]) if len(ax) else np.zeros(2)
        norm = float(np.hypot(*d))
        if norm < 1e-6:
            return (float(cg[0]), float(cg[1])), None
        proj = (xs - cg[0]) * d[0] + (ys - cg[1]) * d[1]
        far = proj >= proj.max() - 0.2 * (proj.max() - proj.min())
        tip = np.array([xs[far].mean(), ys[far].mean()])
        g = cg + push * (tip - cg)
        return (float(g[0]), float(g[1])), (float(d[0] / norm), float(d[1] / norm))
    ys, xs = np.nonzero(robot)
    if len(xs) == 0:
        return None, None
    h, w = robot.shape
    on_border = (xs == 0) | (ys == 0) | (xs == w - 1) | (ys == h - 1)
    base = (np.array([xs[on_border].mean(), ys[on_border].mean()]) if on_border.any()
            else np.array([(w - 1) / 2, (h - 1) / 2]))
    dist = (xs - base[0]) ** 2 + (ys - base[1]) ** 2
    far = dist >= 0.92 ** 2 * dist.max()
    tip = np.array([xs[far].mean(), ys[far].mean()])
    d = tip - base
    norm = float(np.hypot(*d))
    return (float(tip[0]), float(tip[1])), (None if norm < 1e-6 else (float(d[0] / norm), float(d[1] / norm)))


def png_size(path: Path) -> tuple[int, int]:
    """(height, width) from a PNG's header."""
    try:
        with open(path, "rb") as f:
            head = f.read(24)
    except OSError:
        raise fail(path, "missing or unreadable mask") from None
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        raise fail(path, "not a PNG")
    return int.from_bytes(head[20:24], "big"), int.from_bytes(head[16:20], "big")


@dataclass(frozen=True)
class RobotClip:
    root: str
    video: str
    frames: int
    moving: int                 # frames usable as a moving pair: those before static_from
    has_gripper: bool
    grasp: tuple | None         # per-frame grasp points (x, y) or None, from the recording's meta


@dataclass
class RobotFrame:
    rgb: np.ndarray
    robot: np.ndarray
    gripper: np.ndarray
    grasp: tuple[float, float] | None
    direction: tuple[float, float] | None   # arm -> gripper unit vector


def _meta_grasp(vm: dict, n: int, where: str) -> tuple | None:
    """Per-frame grasp points from a video's meta: ``grasp_point`` is a list with one ``[x, y]`` or null
    per frame, or a dict {frame: [x, y]}; pixel coordinates of the recording's frames."""
    g = vm.get("grasp_point")
    if g is None:
        return None
    if isinstance(g, dict):
        g = [g.get(str(i), g.get(i)) for i in range(n)]
    if not isinstance(g, list):
        raise fail(where, "grasp_point must be a list of [x, y] (or null) per frame, or {frame: [x, y]}")
    out = []
    for i, p in enumerate(g[:n] + [None] * max(0, n - len(g))):
        if p is None:
            out.append(None)
            continue
        try:
            x, y = (float(v) for v in p)
        except (TypeError, ValueError):
            raise fail(where, f"grasp_point of frame {i} is {p!r}, not [x, y] or null") from None
        out.append((x, y))
    return tuple(out)


class RobotSource:
    """Robot cut-outs from labelled-recording trees (videos with robot masks and >= 2 frames)."""

    def __init__(self, roots: list[str | Path], cache_bytes: int = 64 << 20):
        if not roots:
            raise fail("--robots", "give at least one labelled-recording tree with robot masks")
        self.recs: dict[str, Recording] = {}
        self.clips: list[RobotClip] = []
        for root in roots:
            rec = Recording(root)
            key = str(root)
            self.recs[key] = rec
            found = 0
            for video in rec.videos:
                vm = rec.video_meta(video)
                parts = vm.get("annotated_parts", list(PART_NAMES))
                n = int(vm.get("frames", 0))
                if "robot" not in parts or n < 2 or not rec.mask_path(video, "robot", 0).exists():
                    continue
                sf = vm.get("static_from")
                moving = n if sf is None or int(sf) < 2 else min(n, int(sf))
                self.clips.append(RobotClip(key, video, n, moving, "gripper" in parts,
                                            _meta_grasp(vm, n, f"{rec.root / 'meta.json'} video {video}")))
                found += 1
            if not found:
                raise fail(root, "no video with robot masks (mask/<video>/002/*.png, 'robot' in annotated_parts) "
                                 "and at least 2 frames")
        self.weights = np.cumsum([c.moving - 1 for c in self.clips])
        self.cache_bytes = cache_bytes
        self.cache = LRU(cache_bytes)
        self.out_size: tuple[int, int] | None = None
        self.max_zoom = 1.0
        self.reduction: dict[tuple[str, str], int] = {}

    def configure(self, out_size: tuple[int, int], max_zoom: float) -> None:
        """Frames get pasted at most ``max_zoom`` x the scale that fits them into ``out_size``: large source
        frames are then decoded at 1/2, 1/4 or 1/8 size (JPEG's scaled decoding), which costs no detail."""
        self.out_size, self.max_zoom = tuple(out_size), float(max_zoom)
        self.reduction.clear()
        self.cache = LRU(self.cache_bytes)

    def reduce_factor(self, clip: RobotClip) -> int:
        key = (clip.root, clip.video)
        if key not in self.reduction:
            r = 1
            if self.out_size is not None:
                path = self.recs[clip.root].mask_path(clip.video, "robot", 0)
                h, w = png_size(path)
                need = min(self.out_size[0] / h, self.out_size[1] / w) * self.max_zoom
                while r < 8 and need * r * 2 <= 1:
                    r *= 2
            self.reduction[key] = r
        return self.reduction[key]

    def __getstate__(self) -> dict:  # worker processes start with empty caches
        return {**self.__dict__, "cache": LRU(self.cache_bytes)}

    def sample(self, rng: np.random.Generator, max_gap: int) -> tuple[RobotClip, int, int]:
        """A clip and frames (t, t + k), uniform over the usable frames t of all clips."""
        g = int(rng.integers(0, self.weights[-1]))
        clip = self.clips[int(np.searchsorted(self.weights, g, side="right"))]
        t = int(rng.integers(0, clip.moving - 1))
        k = int(rng.integers(1, min(max_gap, clip.moving - 1 - t) + 1))
        return clip, t, t + k

    def load(self, clip: RobotClip, frame: int, push: float) -> RobotFrame:
        return self.cache.get((clip.root, clip.video, frame), lambda: self._load(clip, frame, push))

    def _load(self, clip: RobotClip, frame: int, push: float) -> RobotFrame:
        import cv2

        rec = self.recs[clip.root]
        r = self.reduce_factor(clip)
        flags = {1: (cv2.IMREAD_COLOR, cv2.IMREAD_GRAYSCALE),
                 2: (cv2.IMREAD_REDUCED_COLOR_2, cv2.IMREAD_REDUCED_GRAYSCALE_2),
                 4: (cv2.IMREAD_REDUCED_COLOR_4, cv2.IMREAD_REDUCED_GRAYSCALE_4),
                 8: (cv2.IMREAD_REDUCED_COLOR_8, cv2.IMREAD_REDUCED_GRAYSCALE_8)}[r]
        path = rec.image_path(clip.video, frame)
        bgr = cv2.imread(str(path), flags[0])
        if bgr is None:
            raise fail(path, "cannot read image (missing, truncated or not an image)")
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

        def mask(part: str) -> np.ndarray:
            mp = rec.mask_path(clip.video, part, frame)
            m = cv2.imread(str(mp), flags[1])
            if m is None:
                raise fail(mp, "missing or unreadable mask")
            if m.shape != rgb.shape[:2]:
                if r == 1 or abs(m.shape[0] - rgb.shape[0]) > 1 or abs(m.shape[1] - rgb.shape[1]) > 1:
                    raise fail(mp, f"mask is {m.shape[1]}x{m.shape[0]}, image {path.name} is "
                                   f"{rgb.shape[1]}x{rgb.shape[0]}")
                m = cv2.resize(m, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_NEAREST)  # rounding
            return m > 127

        robot = mask("robot")
        gripper = mask("gripper") & robot if clip.has_gripper else np.zeros_like(robot)
        grasp, direction = grasp_pose(robot, gripper, push)
        if clip.grasp and clip.grasp[frame] is not None:
            grasp = (clip.grasp[frame][0] / r, clip.grasp[frame][1] / r)
        return RobotFrame(rgb, robot, gripper, grasp, direction)

    def describe(self) -> list[dict]:
        return [{"root": c.root, "video": c.video, "frames": c.frames} for c in self.clips]


# --------------------------------------------------------------------------------------------- painting
def paste(img: np.ndarray, labels: np.ndarray, rgba: np.ndarray, cx: float, cy: float, label: int) -> None:
    """Alpha-blend ``rgba`` centred at (cx, cy) into ``img`` in place; pixels with alpha >= 128 get ``label``."""
    h, w = rgba.shape[:2]
    H, W = labels.shape
    x0, y0 = int(round(cx - w / 2)), int(round(cy - h / 2))
    ix0, iy0, ix1, iy1 = max(x0, 0), max(y0, 0), min(x0 + w, W), min(y0 + h, H)
    if ix0 >= ix1 or iy0 >= iy1:
        return
    src = rgba[iy0 - y0:iy1 - y0, ix0 - x0:ix1 - x0]
    a = src[..., 3:4].astype(np.float32) * (1 / 255)
    region = img[iy0:iy1, ix0:ix1]
    region[:] = (region * (1 - a) + src[..., :3] * a + 0.5).astype(np.uint8)
    labels[iy0:iy1, ix0:ix1][src[..., 3] >= 128] = label


def footprint(shape: tuple[int, int], rgba: np.ndarray, cx: float, cy: float) -> tuple[slice, slice, np.ndarray]:
    """The frame slices a sprite centred at (cx, cy) covers, and its opaque pixels there."""
    h, w = rgba.shape[:2]
    H, W = shape
    x0, y0 = int(round(cx - w / 2)), int(round(cy - h / 2))
    ix0, iy0, ix1, iy1 = max(x0, 0), max(y0, 0), min(x0 + w, W), min(y0 + h, H)
    if ix0 >= ix1 or iy0 >= iy1:
        return slice(0, 0), slice(0, 0), np.zeros((0, 0), bool)
    return slice(iy0, iy1), slice(ix0, ix1), rgba[iy0 - y0:iy1 - y0, ix0 - x0:ix1 - x0, 3] >= 128


def masks_from_labels(labels: np.ndarray) -> dict[str, np.ndarray]:
    arm, gripper = labels == ARM, labels == GRIPPER
    return {"arm": arm, "gripper": gripper, "robot": arm | gripper, "object": labels == OBJECT,
            "distractor": labels == DISTRACTOR}


@dataclass
class Layer:
    rgba: np.ndarray
    centres: tuple[tuple[float, float], tuple[float, float]]   # (cx, cy) in frame A and frame B
    label: int
    behind: bool = False
    sprite_b: np.ndarray | None = None   # frame B's look when it differs (a grasped object turns with the gripper)

    def rgba_for(self, which: int) -> np.ndarray:
        return self.sprite_b if which == 1 and self.sprite_b is not None else self.rgba


@dataclass
class Pair:
    index: int
    static: bool
    images: tuple[np.ndarray, np.ndarray]
    labels: tuple[np.ndarray, np.ndarray]
    annotated_parts: tuple[str, ...]
    info: dict = field(default_factory=dict)


# -------------------------------------------------------------------------------------------- generator
class CompositeGenerator:
    """Makes pair k from (seed, k) alone; holds the asset lists and per-process caches."""

    def __init__(self, robots: RobotSource, backgrounds: list[Path], objects: list[ObjectAsset],
                 cfg: CompositeConfig = CompositeConfig(), aug: AugmentConfig = AugmentConfig(), seed: int = 0):
        self.cfg, self.aug_cfg, self.seed = cfg.check(), aug, int(seed)
        self.robots, self.backgrounds, self.objects = robots, list(backgrounds), list(objects)
        robots.configure(cfg.size, cfg.robot_scale[1])
        self._fresh()

    def _fresh(self) -> None:
        """Per-process state: the albumentations pipelines (built on first use) and the decoded-image caches."""
        self._augmenter: PairAugmenter | None = None
        self.bg_cache = LRU(self.cfg.cache_mb << 20)
        self.sprite_cache = LRU(32 << 20)

    @property
    def augmenter(self) -> PairAugmenter:
        if self._augmenter is None:
            self._augmenter = PairAugmenter(self.aug_cfg)
        return self._augmenter

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in ("_augmenter", "bg_cache", "sprite_cache")}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._fresh()

    # -- pieces
    def _background(self, rng: np.random.Generator) -> tuple[np.ndarray, str]:
        import cv2

        H, W = self.cfg.size
        path = self.backgrounds[int(rng.integers(len(self.backgrounds)))]
        img = self.bg_cache.get(path, lambda: load_background(path, 2 * max(H, W)))
        h0, w0 = img.shape[:2]
        ch, cw = (h0, h0 * W / H) if w0 / h0 > W / H else (w0 * H / W, w0)
        z = rng.uniform(*self.cfg.background_zoom)
        ch, cw = max(2, int(ch * z)), max(2, int(cw * z))
        y0, x0 = int(rng.integers(0, h0 - ch + 1)), int(rng.integers(0, w0 - cw + 1))
        crop = img[y0:y0 + ch, x0:x0 + cw]
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        interp = cv2.INTER_AREA if ch > H else cv2.INTER_LINEAR
        return cv2.resize(np.ascontiguousarray(crop), (W, H), interpolation=interp), path.name

    def _robot_transform(self, rng: np.random.Generator, src_shape: tuple[int, int]) -> np.ndarray:
        H, W = self.cfg.size
        hs, ws = src_shape
        s = min(H / hs, W / ws) * rng.uniform(*self.cfg.robot_scale)
        f = -1.0 if rng.random() < self.cfg.flip_p else 1.0
        dx, dy = rng.uniform(-1, 1, 2) * self.cfg.robot_shift * np.array([W, H])
        return np.array([[s * f, 0, W / 2 + dx - s * f * ws / 2],
                         [0, s, H / 2 + dy - s * hs / 2]], np.float64)

    def _warp_robot(self, fr: RobotFrame, M: np.ndarray):
        import cv2

        H, W = self.cfg.size
        lab = fr.robot.astype(np.uint8)
        lab[fr.gripper] = GRIPPER
        rgb = cv2.warpAffine(fr.rgb, M, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        lab = cv2.warpAffine(lab, M, (W, H), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        grasp = None if fr.grasp is None else tuple(M @ np.array([fr.grasp[0], fr.grasp[1], 1.0]))
        return rgb, lab, grasp

    @staticmethod
    def _turn(fa: RobotFrame, fb: RobotFrame, M: np.ndarray) -> float:
        """How far the gripper turned from frame A to frame B in the output (degrees, counter-clockwise on
        screen), so the grasped object turns with it; 0 where a direction is unknown."""
        if fa.direction is None or fb.direction is None:
            return 0.0
        da, db = M[:, :2] @ np.array(fa.direction), M[:, :2] @ np.array(fb.direction)
        # image y points down: a positive atan2 change is clockwise on screen
        return -float(np.degrees(np.arctan2(db[1], db[0]) - np.arctan2(da[1], da[0])))

    def _sprite(self, rng: np.random.Generator, size: float, exclude: str | None = None) -> tuple[np.ndarray, str]:
        """An RGBA sprite with longer side ~``size`` from the object folders, else procedural."""
        import cv2

        size = max(8, int(round(size)))
        pool = [o for o in self.objects if o.name != exclude]
        if pool and rng.random() >= self.cfg.procedural_object_p:
            obj = pool[int(rng.integers(len(pool)))]
            view = obj.views[int(rng.integers(len(obj.views)))]
            rgba = self.sprite_cache.get(view, lambda: load_rgba(view))
            if rgba.size:
                s = size / max(rgba.shape[:2])
                dsize = (max(1, round(rgba.shape[1] * s)), max(1, round(rgba.shape[0] * s)))
                interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
                return cv2.resize(rgba, dsize, interpolation=interp), obj.name
        return procedural_object(rng, size), "procedural"

    # -- the pair
    def make_pair(self, index: int) -> Pair:
        cfg = self.cfg
        H, W = cfg.size
        rng = np.random.default_rng([self.seed, int(index)])
        s_robot, s_obj, s_frames = (int(x) for x in rng.integers(0, 2 ** 31, 3))
        static = bool(rng.random() < cfg.static_fraction)
        bg, bg_name = self._background(rng)

        clip, t, t2 = self.robots.sample(rng, cfg.max_gap)
        if static:
            t2 = t
        fa = self.robots.load(clip, t, cfg.grasp_push)
        fb = fa if static else self.robots.load(clip, t2, cfg.grasp_push)
        M = self._robot_transform(rng, fa.rgb.shape[:2])
        ra, la, ga = self._warp_robot(fa, M)
        if static:
            rb, lb, gb = ra, la, ga
        else:
            rb, lb, gb = self._warp_robot(fb, M)
            if rb.shape != ra.shape:  # pragma: no cover - frames of one video share a size
                raise fail(clip.video, "frames of different sizes")
        ra, rb = self.augmenter.region_shift(s_robot, ra, rb)
        # its own generator (from the robot's seed), so pairs made without repainting stay as they were
        r_paint = np.random.default_rng([s_robot, 1])
        if r_paint.random() < self.aug_cfg.repaint_p:
            ra, rb = repaint(int(r_paint.integers(0, 2 ** 31)), [ra, rb], [la, lb])

        layers: list[Layer] = []
        # grasped object, sized after the gripper of frame A
        g_area = int((la == GRIPPER).sum())
        if g_area:
            size = np.sqrt(g_area) * rng.uniform(*cfg.object_scale)
        else:
            size = np.sqrt(max(1, int((la > 0).sum()))) * rng.uniform(*cfg.object_scale_robot)
        size = float(np.clip(size, 8, 0.6 * min(H, W)))
        obj_name = None
        if ga is not None and gb is not None:
            sprite, obj_name = self._sprite(rng, size)
            sprite = sprite.copy()
            sprite[..., :3] = self.augmenter.region_shift(s_obj, np.ascontiguousarray(sprite[..., :3]))
            sprite_b = sprite if static else rotate_sprite(sprite, self._turn(fa, fb, M))
            ca = self._touch_gripper(sprite, ga, la)
            cb = ca if static else self._touch_gripper(sprite_b, gb, lb)
            layers.append(Layer(sprite, (ca, cb), OBJECT, sprite_b=sprite_b))
        # distractors
        n_dis = int(rng.integers(cfg.min_distractors, cfg.max_distractors + 1))
        m = min(H, W)
        # where a distractor starts beside the gripper: its own generator, so pairs made without it stay as they were
        r_near = np.random.default_rng([s_robot, 3])
        for _ in range(n_dis):
            sprite, _name = self._sprite(rng, m * rng.uniform(*cfg.distractor_scale), exclude=obj_name)
            sprite = sprite.copy()
            sprite[..., :3] = self.augmenter.region_shift(int(rng.integers(0, 2 ** 31)),
                                                          np.ascontiguousarray(sprite[..., :3]))
            pa = np.array([rng.uniform(0, W), rng.uniform(0, H)])
            ang = rng.uniform(0, 2 * np.pi)
            step = m * rng.uniform(*cfg.distractor_move) * np.array([np.cos(ang), np.sin(ang)])
            if r_near.random() < cfg.distractor_near_p:
                pa = self._beside_gripper(r_near, la, max(sprite.shape[:2]), pa)
            pb = pa + step
            if not (0 <= pb[0] < W and 0 <= pb[1] < H):
                pb = pa - step
            pb = np.clip(pb, 0, [W - 1, H - 1])
            behind = bool(rng.random() < cfg.distractor_behind_p)
            layers.append(Layer(sprite, (tuple(pa), tuple(pa if static else pb)), DISTRACTOR, behind))
        blend = bool(rng.random() < self.aug_cfg.edge_blend_p)
        # shadows draw from their own generator too, so pairs made without them stay as they were
        r_shadow = np.random.default_rng([s_robot, 2])
        light = shadow_light(r_shadow, (H, W), self.aug_cfg) if r_shadow.random() < self.aug_cfg.shadow_p else None

        def compose(robot_rgb, robot_lab, which):
            img, lab = bg.copy(), np.zeros((H, W), np.uint8)
            for layer in (ly for ly in layers if ly.behind):
                paste(img, lab, layer.rgba_for(which), *layer.centres[which], layer.label)
            on = robot_lab > 0
            img[on] = robot_rgb[on]
            lab[on] = robot_lab[on]
            for layer in (ly for ly in layers if not ly.behind):
                paste(img, lab, layer.rgba_for(which), *layer.centres[which], layer.label)
            if light is not None:
                img = cast_shadow(img, lab, light)
            if blend:
                img = blend_edges(img, lab, self.aug_cfg.edge_ksize, self.aug_cfg.edge_width)
            return img, lab

        img_a, lab_a = compose(ra, la, 0)
        if static:
            img_a, _ = self.augmenter.frames(s_frames, img_a, None)
            img_b, lab_b = img_a.copy(), lab_a.copy()
        else:
            img_b, lab_b = compose(rb, lb, 1)
            img_a, img_b = self.augmenter.frames(s_frames, img_a, img_b)
        parts = PART_NAMES if clip.has_gripper else ("robot", "object", "distractor")
        info = {"background": bg_name, "robot": {"root": clip.root, "video": clip.video, "frames": [t, t2]},
                "object": obj_name, "distractors": n_dis}
        return Pair(int(index), static, (img_a, img_b), (lab_a, lab_b), tuple(parts), info)

    def _beside_gripper(self, rng: np.random.Generator, lab: np.ndarray, size: int, fallback: np.ndarray) -> np.ndarray:
        """A start (x, y) for a distractor of longer side ``size`` beside the robot's gripper in ``lab`` (the
        robot where no gripper is seen): a random gripper pixel moved ``distractor_near`` x ``size`` in a random
        direction, so the distractor touches or nearly touches the gripper without moving with it; ``fallback``
        where no robot is seen."""
        ys, xs = np.nonzero(lab == GRIPPER)
        if len(xs) == 0:
            ys, xs = np.nonzero(lab == ARM)
        if len(xs) == 0:
            return fallback
        i = int(rng.integers(len(xs)))
        ang = rng.uniform(0, 2 * np.pi)
        d = size * rng.uniform(*self.cfg.distractor_near)
        H, W = lab.shape
        return np.clip(np.array([xs[i] + d * np.cos(ang), ys[i] + d * np.sin(ang)]), 0, [W - 1, H - 1])

    @staticmethod
    def _touch_gripper(sprite: np.ndarray, grasp: tuple[float, float], lab: np.ndarray) -> tuple[float, float]:
        """The grasp point, moved onto the gripper pixel nearest to it if the sprite would miss the gripper."""
        ys, xs, opaque = footprint(lab.shape, sprite, *grasp)
        if opaque.size and (lab[ys, xs][opaque] == GRIPPER).any():
            return float(grasp[0]), float(grasp[1])
        gy, gx = np.nonzero(lab == GRIPPER)
        if len(gx) == 0:
            return float(grasp[0]), float(grasp[1])
        i = int(np.argmin((gx - grasp[0]) ** 2 + (gy - grasp[1]) ** 2))
        return float(gx[i]), float(gy[i])

    def write_pair(self, root: Path, pair: Pair) -> None:
        name = pair_name(pair.index)
        w = VideoWriter(root, name, annotated_parts=pair.annotated_parts, static_from=1 if pair.static else None,
                        source=SOURCE, license="mixed: see the assets in manifest.json", quality=self.cfg.quality,
                        extra={"kind": "static" if pair.static else "pair", "seed": self.seed,
                               "index": pair.index, **pair.info})
        for img, lab in zip(pair.images, pair.labels):
            w.write(img, masks_from_labels(lab))
        w.finish(rebuild=False)  # generate() rebuilds meta.json once at the end


# --------------------------------------------------------------------------------------------- the job
_WORKER: tuple | None = None


def _init_worker(gen: CompositeGenerator, root: Path, pool_worker: bool = True) -> None:
    global _WORKER
    if pool_worker:
        import cv2

        from .augment import import_without_torch

        cv2.setNumThreads(1)  # one process per core: OpenCV's own threads would only compete
        import_without_torch()
    _WORKER = (gen, root)


def _work(index: int) -> tuple[int, bool, int]:
    gen, root = _WORKER
    pair = gen.make_pair(index)
    gen.write_pair(root, pair)
    return index, pair.static, pair.info["distractors"]


def _settings(gen: CompositeGenerator, robots, objects, backgrounds) -> dict:
    """What decides the pairs (a resumed or sharded run into the same folder must match)."""
    augment = asdict(gen.aug_cfg)
    if not augment["repaint_p"]:  # folders made before repainting existed resume
        del augment["repaint_p"]
    if not augment["shadow_p"]:   # ... and those made before shadows existed
        augment = {k: v for k, v in augment.items() if not k.startswith("shadow")}
    config = asdict(gen.cfg)
    if not config["distractor_near_p"]:  # ... and those made before distractors beside the gripper existed
        config = {k: v for k, v in config.items() if not k.startswith("distractor_near")}
    return {"seed": gen.seed, "config": config, "augment": augment,
            "robots": [str(Path(r).resolve()) for r in robots],
            "objects": [str(Path(o).resolve()) for o in objects or []],
            "backgrounds": [str(Path(b).resolve()) for b in backgrounds] if backgrounds else "default"}


def _assets(gen: CompositeGenerator, max_files: int = 2000) -> list[dict]:
    """The asset list of the manifest: background photos (per folder when there are very many), robot
    clips, object folders."""
    from .assets import skimage_photos

    sk = {p.parent for p in skimage_photos()}
    out = []
    if len(gen.backgrounds) <= max_files:
        for p in gen.backgrounds:
            lic = ("scikit-image sample data, see skimage/data/README.txt" if p.parent in sk else
                   "see LICENSE.md beside the photos" if (p.parent / "LICENSE.md").exists() else "user-supplied")
            out.append({"path": str(p), "name": p.name, "source": "background", "license": lic})
    else:
        folders: dict[Path, int] = {}
        for p in gen.backgrounds:
            folders[p.parent] = folders.get(p.parent, 0) + 1
        out += [{"path": str(f), "name": f.name, "source": "background", "files": n, "license": "user-supplied"}
                for f, n in sorted(folders.items())]
    for c in gen.robots.clips:
        out.append({"path": f"{c.root}/image/{c.video}", "name": c.video, "source": "robot", "frames": c.frames,
                    "license": gen.robots.recs[c.root].video_meta(c.video).get("license", "")})
    out += [{"path": str(o.views[0].parent), "name": o.name, "source": "object", "views": len(o.views),
             "license": "user-supplied"} for o in gen.objects]
    if not gen.objects:
        out.append({"path": "procedural", "name": "procedural objects", "source": "object", "license": "generated"})
    return out


def _check_same_settings(out: Path, settings: dict) -> None:
    now = json.loads(json.dumps(settings))
    for path in sorted((out / "manifest.d").glob(f"{GENERATOR}-*.json")):
        try:
            old = json.loads(path.read_text())["settings"]
        except (json.JSONDecodeError, KeyError, UnicodeDecodeError, TypeError):
            raise fail(path, "unreadable manifest fragment; remove it or use another output folder") from None
        if old != now:
            diff = sorted(k for k in now if old.get(k) != now[k])
            raise fail(out, f"holds pairs made with other settings (differing: {', '.join(diff)}; see {path}); "
                            "use another output folder or the same settings to resume")


def generate(out: str | Path, num: int, robots: list, objects: list | None = None, backgrounds: list | None = None,
             cfg: CompositeConfig = CompositeConfig(), aug: AugmentConfig = AugmentConfig(), seed: int = 0,
             shard: tuple[int, int] = (0, 1), workers: int = 1, progress: bool = True) -> dict:
    """Write pairs ``pair_{k:06d}`` for k in range(num) belonging to ``shard`` (k % N == i) into ``out``,
    skipping finished ones; record the run in the dataset manifest (synth/manifest.py, generator
    "composite"). Returns this run's counts and timing."""
    from tqdm import tqdm

    from . import manifest as dataset_manifest

    if num < 0:
        raise fail("--num", "must be >= 0")
    cfg.check()
    gen = CompositeGenerator(RobotSource(robots), find_backgrounds(backgrounds), find_objects(objects), cfg, aug, seed)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise fail(out, "exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    settings = _settings(gen, robots, objects, backgrounds)
    _check_same_settings(out, settings)
    assets = _assets(gen)
    i, n = shard
    mine = list(range(i, num, n))
    todo = [k for k in mine if not is_finished(out, pair_name(k))]
    # pairs / finished: the shard's state (they sum over shards); the rest: this run
    counts = {"pairs": len(mine), "finished": len(mine) - len(todo), "made": 0, "skipped": len(mine) - len(todo),
              "static_made": 0, "distractors_made": 0}
    dataset_manifest.write(out, GENERATOR, shard, settings=settings, counts=counts, assets=assets,
                           timing={"status": "running", "num": num})

    t0 = time.perf_counter()
    bar = tqdm(total=len(todo), unit="pair", desc="composite", disable=not progress, dynamic_ncols=True)

    def done(st: bool, nd: int) -> None:
        counts["made"] += 1
        counts["finished"] += 1
        counts["static_made"] += int(st)
        counts["distractors_made"] += nd
        bar.update()

    try:
        if workers > 1 and len(todo) > 1:
            import multiprocessing as mp

            # spawn, not fork: albumentations imports torch, whose thread pools do not survive a fork
            # (forked workers can deadlock); each worker gets the generator pickled, without its caches
            ctx = mp.get_context("spawn")
            with ctx.Pool(workers, initializer=_init_worker, initargs=(gen, out)) as pool:
                for _, st, nd in pool.imap_unordered(_work, todo, chunksize=4):
                    done(st, nd)
        else:
            _init_worker(gen, out, pool_worker=False)
            for k in todo:
                _, st, nd = _work(k)
                done(st, nd)
    finally:
        bar.close()
        seconds = time.perf_counter() - t0
        rebuild_meta(out)
        timing = {"status": "done" if counts["made"] == len(todo) else "interrupted", "num": num,
                  "seconds": round(seconds, 3), "workers": workers,
                  "pairs_per_s": round(counts["made"] / seconds, 3) if seconds > 0 and counts["made"] else None}
        dataset_manifest.write(out, GENERATOR, shard, settings=settings, counts=counts, assets=assets,
                               timing=timing)
    return {**counts, **timing, "shard": f"{i}/{n}"}


# ---------------------------------------------------------------------------------------- contact sheet
def _text(img: np.ndarray, text: str, org: tuple[int, int], scale: float = 0.4) -> None:
    import cv2

    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)


def contact_sheet(root: str | Path, out_png: str | Path, videos: list[str] | None = None, max_pairs: int = 8,
                  cols: int = 2) -> Path:
    """A PNG grid of pairs (frame A | frame B, parts overlaid as in synth/sheet.py) with a colour legend."""
    import cv2

    from distinctnet.io import atomic_imwrite

    from .sheet import COLOURS, overlay

    rec = Recording(root)
    videos = [v for v in (videos or rec.videos) if v in rec.meta["videos"]][:max_pairs]
    if not videos:
        raise fail(root, "no pairs to show")
    cells = []
    for v in videos:
        frames = [overlay(rec.read_image(v, f), rec.read_masks(v, f)) for f in (0, 1)]
        gap = np.full((frames[0].shape[0], 4, 3), 255, np.uint8)
        cell = np.concatenate([frames[0], gap, frames[1]], 1)
        _text(cell, f"{v} ({rec.video_meta(v).get('kind', '?')})", (4, 14))
        cells.append(cell)
    h = max(c.shape[0] for c in cells)
    w = max(c.shape[1] for c in cells)
    pad = 6
    rows = (len(cells) + cols - 1) // cols
    sheet = np.full((rows * (h + pad) + 24, cols * (w + pad), 3), 255, np.uint8)
    for j, c in enumerate(cells):
        r, q = divmod(j, cols)
        sheet[r * (h + pad):r * (h + pad) + c.shape[0], q * (w + pad):q * (w + pad) + c.shape[1]] = c
    x = 4
    for name, colour in COLOURS.items():
        y = sheet.shape[0] - 18
        sheet[y:y + 12, x:x + 12] = colour
        cv2.putText(sheet, name, (x + 16, y + 10), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
        x += 110
    out_png = Path(out_png)
    atomic_imwrite(out_png, sheet)
    return out_png


# ------------------------------------------------------------------------------------------------- CLI
def add_arguments(parser) -> None:
    d = CompositeConfig()
    parser.add_argument("out", help="output labelled-recording tree (created; finished pairs are skipped)")
    parser.add_argument("--robots", action="append", required=True, metavar="ROOT",
                        help="labelled-recording tree with robot (and gripper) masks; repeatable")
    parser.add_argument("--objects", action="append", metavar="DIR",
                        help="folder of RGBA PNG object cut-outs, one sub-folder per object; repeatable "
                             "(default: procedural objects)")
    parser.add_argument("--backgrounds", action="append", metavar="DIR",
                        help="folder of background photos (JPG/PNG, recursive); repeatable (default: "
                             "scikit-image sample photos + $DISTINCTNET_ASSETS or ../shared/assets backgrounds)")
    parser.add_argument("--num", type=int, default=1000, metavar="N", help="total number of pairs (default 1000)")
    parser.add_argument("--size", default="x".join(map(str, d.size)), metavar="HxW",
                        help="output size (default %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="pair k is made from (seed, k) (default 0)")
    parser.add_argument("--shard", default="0/1", metavar="i/N",
                        help="make the pairs k with k %% N == i (default 0/1)")
    parser.add_argument("--static-fraction", type=float, default=d.static_fraction, metavar="F",
                        help="share of motion-stop pairs (default %(default)s)")
    parser.add_argument("--min-distractors", type=int, default=d.min_distractors, metavar="N",
                        help="(default %(default)s)")
    parser.add_argument("--max-distractors", type=int, default=d.max_distractors, metavar="N",
                        help="distractors per pair: uniform in min..max (default %(default)s)")
    parser.add_argument("--max-gap", type=int, default=d.max_gap, metavar="K",
                        help="frame B is frame t+k of the robot recording, k in 1..K (default %(default)s)")
    parser.add_argument("--workers", type=int, default=1, metavar="N", help="worker processes (default 1)")
    parser.add_argument("--repaint", type=float, default=AugmentConfig.repaint_p, metavar="P",
                        help="chance a pair's robot gets a random paint job (its parts recoloured over their own "
                             "shading; domain randomisation against the few rendered robots' colours; default "
                             "%(default)s)")
    parser.add_argument("--shadow", type=float, default=AugmentConfig.shadow_p, metavar="P",
                        help="chance a pair gets soft shadows of the robot, object and distractors on the "
                             "background, moving with them (labels stay background: a moving shadow is not "
                             "foreground; default %(default)s)")
    parser.add_argument("--distractor-near", type=float, default=d.distractor_near_p, metavar="P",
                        help="chance a distractor starts beside the gripper and moves on its own (a hard negative: "
                             "not every moving thing at the gripper is the grasped object; default %(default)s)")
    parser.add_argument("--sheet", metavar="PNG", help="also write a contact sheet of the first pairs")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args) -> int:
    cfg = replace(CompositeConfig(), size=parse_size(args.size), static_fraction=args.static_fraction,
                  min_distractors=args.min_distractors, max_distractors=args.max_distractors,
                  max_gap=args.max_gap, distractor_near_p=args.distractor_near).check()
    if not 0 <= args.repaint <= 1:
        raise fail("--repaint", f"{args.repaint} is not in [0, 1]")
    if not 0 <= args.shadow <= 1:
        raise fail("--shadow", f"{args.shadow} is not in [0, 1]")
    aug = replace(AugmentConfig(), repaint_p=args.repaint, shadow_p=args.shadow)
    shard = parse_shard(args.shard)
    m = generate(args.out, args.num, args.robots, args.objects, args.backgrounds, cfg, aug, seed=args.seed, shard=shard,
                 workers=max(1, args.workers), progress=not args.quiet)
    rate = m["pairs_per_s"]
    rate_txt = f"{rate:.1f} pairs/s ({rate * 3600:,.0f} pairs/hour)" if rate else "nothing to do"
    print(f"{m['made']} pairs made, {m['skipped']} already there, in {m['seconds']:.1f} s: {rate_txt}; "
          f"-> {args.out}", file=sys.stderr)
    if args.sheet:
        first = [pair_name(k) for k in range(shard[0], args.num, shard[1])][:8]
        print(f"contact sheet: {contact_sheet(args.out, args.sheet, first)}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m synth.composite OUT --robots ...``: the same as ``distinctnet synth composite ...``."""
    from distinctnet.cli import main as distinctnet_main

    return distinctnet_main(["synth", "composite", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())

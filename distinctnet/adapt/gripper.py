"""The gripper and its grasp point on the harvested frames.

With a clip of the gripper opening and closing at a still pose (camera and arm still, only the fingers
move):

1. The fingers are the pixels that change: each pixel's share of frame pairs in which it changes by more
   than ``DIFF_LEVEL`` (blurred grey frames); pixels above ``MOVING_SHARE`` are the fingers' swept area.
2. The grasp point, the spot between the fingers where a grasped object appears, is the midpoint of the two
   largest swept blobs (one per finger), or the centroid of the swept area when the fingers' paths merge.
3. The gripper's appearance is the clip's median frame inside the convex hull of the swept area grown by
   ``MARGIN`` of its size (to take in the palm). A region that large against the harvested robot
   (``MAX_REGION_OF_ROBOT`` of its median area, at the clip's scale) means more than the fingers moved: the
   clip is refused.
4. On every harvested frame that appearance is searched (masked normalised cross-correlation of colour
   over ``SCALES`` x ``ANGLES``) with its centre on the far end of the robot mask (within the clip's gripper
   size of the point farthest along the mask from the robot's base, see below). A match's score is its
   correlation minus ``PRIOR_WEIGHT`` per gripper length between its grasp point and the geometric estimate's
   (so a look-alike patch elsewhere on the far end does not win); the best match places the gripper (its
   region, cut to the robot mask); the grasp point is taken at the end of the placed gripper farthest along
   the robot from its base (half the clip's gripper size; the robot's far end when the placed gripper does
   not reach it; ``synth.composite.grasp_point``), which is steadier than the template's own grasp point
   under small errors of angle and scale. Frames whose best score is under ``MIN_SCORE`` fall back to the
   estimate below, with the gripper's size taken from the clip.

Without the clip (or as that fallback) the gripper is estimated from the robot masks alone. The gripper is
the end of the kinematic chain, so it is the part of the mask farthest *along the mask* (geodesic distance,
through the mask closed over small gaps) from the robot's base: the last ``GRIPPER_FRACTION`` of that
distance, or the clip's gripper size. The base is where the robot stays while its end moves: the mask
pixels that are robot in at least ``BASE_PRESENCE`` of the recording's kept frames (their largest blob);
where no such pixels are (a robot that sweeps the whole picture), the pixels where the mask touches the
image border (a robot entering the picture from its base). Robots standing in full view, whose upper arm
leaves the picture at the top, are why the border is only the fallback. The grasp point follows from the
gripper and arm masks (``synth.composite.grasp_point``, which the compositor also uses).

The gripper masks go into the harvest tree (part 001; arm = robot & ~gripper) with ``grasp_point`` per frame
in each video's meta (the compositor reads it), and ``gripper`` saying how they were found.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import fail
from ..io import atomic_imwrite, atomic_write_json
from ..layout import Recording, VideoWriter
from .checks import DIFF_LEVEL, MIN_CLIP_FRAMES, check_recording, motion_stats
from .sheet import GRIPPER, KEPT, Examples, tile, tint

log = logging.getLogger("distinctnet.adapt")

MOVING_SHARE = 0.05
MAX_MOVING = 0.25          # more of the picture moving than this: not a still pose
MARGIN = 0.25
SCALES = (0.8, 1.0, 1.25)
ANGLES = tuple(range(0, 360, 30))
MIN_SCORE = 0.45
PRIOR_WEIGHT = 0.15        # score penalty per gripper length between a match and the geometric grasp point
ANALYSIS_WIDTH = 256
GRIPPER_FRACTION = 0.2
BASE_PRESENCE = 0.9        # share of a recording's frames in which a pixel is robot for it to be the base
MAX_CLIP_FRAMES = 300
MAX_REGION_OF_ROBOT = 0.8  # a clip's gripper region this large against the harvested robot: the arm moved


@dataclass
class ClipGripper:
    size: tuple[int, int]        # clip frame (H, W)
    moving: np.ndarray           # swept finger area
    region: np.ndarray           # gripper region (hull of the swept area + margin)
    grasp: tuple[float, float]   # (x, y) in clip pixels
    median: np.ndarray           # median clip frame (RGB)
    energy: np.ndarray           # share of pairs in which each pixel changed

    @property
    def length(self) -> float:
        """The gripper's size in clip pixels (side of a square of the region's area)."""
        return float(np.sqrt(self.region.sum()))


def _components(mask: np.ndarray, keep: float) -> tuple[np.ndarray, list[tuple[int, np.ndarray]]]:
    import cv2

    n, lab, stats, cents = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    comps = sorted(((int(stats[i, cv2.CC_STAT_AREA]), cents[i]) for i in range(1, n)), key=lambda c: -c[0])
    if not comps:
        return mask.astype(bool), []
    good = [i for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] >= keep * comps[0][0]]
    return np.isin(lab, good), [c for c in comps if c[0] >= keep * comps[0][0]]


def analyse_clip(frames: list[np.ndarray], where) -> ClipGripper:
    """Find the fingers, the grasp point and the gripper's appearance in an open/close clip."""
    import cv2

    check_recording(motion_stats(frames), where, min_frames=MIN_CLIP_FRAMES, what="gripper clip")
    frames = frames[:MAX_CLIP_FRAMES]
    greys = [cv2.GaussianBlur(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY), (5, 5), 0).astype(np.int16) for f in frames]
    energy = np.mean([np.abs(a - b) > DIFF_LEVEL for a, b in zip(greys, greys[1:])], axis=0)
    moving = cv2.morphologyEx((energy > MOVING_SHARE).astype(np.uint8), cv2.MORPH_OPEN, np.ones((2, 2), np.uint8)) > 0
    moving, comps = _components(moving, 0.2)
    if not comps:
        raise fail(where, "nothing moves in the gripper clip: record the gripper opening and closing")
    if moving.mean() > MAX_MOVING:
        raise fail(where, f"{100 * moving.mean():.0f}% of the gripper clip moves: only the fingers may move "
                          "(keep the camera and the arm still)")
    if len(comps) >= 2 and comps[1][0] >= 0.3 * comps[0][0]:
        g = (comps[0][1] + comps[1][1]) / 2
    else:
        ys, xs = np.nonzero(moving)
        g = np.array([xs.mean(), ys.mean()])
    pts = np.stack(np.nonzero(moving)[::-1], 1).astype(np.int32)
    hull = np.zeros(moving.shape, np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(pts), 1)
    r = max(2, int(round(MARGIN * np.sqrt(hull.sum()))))
    region = cv2.dilate(hull, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))) > 0
    median = np.median(np.stack(frames[:: max(1, len(frames) // 60)]), axis=0).astype(np.uint8)
    return ClipGripper(tuple(moving.shape), moving, region, (float(g[0]), float(g[1])), median, energy)


# ----------------------------------------------------------------------------------------------- geometry
def _border_near(robot: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    h, w = robot.shape
    border = np.minimum.reduce([xs, ys, w - 1 - xs, h - 1 - ys])
    return border <= max(1, border.min())


def presence(masks) -> np.ndarray | None:
    """Per pixel, the share of the masks in which it is set (None for no masks)."""
    masks = list(masks)
    return np.mean(np.stack(masks), axis=0, dtype=np.float32) if masks else None


def base_seeds(robot: np.ndarray, present: np.ndarray | None = None) -> np.ndarray:
    """The robot's base in this frame: its largest blob of pixels that are robot in ``BASE_PRESENCE`` of the
    recording's frames (``present``, see :func:`presence`); without such pixels, its pixels on the image
    border (else the pixels nearest to it)."""
    import cv2

    if present is not None:
        if present.shape != robot.shape:
            present = cv2.resize(present, robot.shape[::-1], interpolation=cv2.INTER_LINEAR)
        still = robot & (present >= BASE_PRESENCE)
        if still.sum() >= max(4, 0.02 * robot.sum()):
            n, lab, stats, _ = cv2.connectedComponentsWithStats(still.astype(np.uint8), connectivity=8)
            return lab == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    seeds = np.zeros_like(robot, bool)
    ys, xs = np.nonzero(robot)
    near = _border_near(robot, xs, ys)
    seeds[ys[near], xs[near]] = True
    return seeds


def reach(robot: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """Distance of every robot pixel from ``seeds`` along the mask: 8-connected steps through the mask closed
    over gaps of 2% of its size; pixels no path reaches get their straight distance from the nearest seed;
    -1 off the mask."""
    import cv2

    r = max(1, int(round(0.02 * np.sqrt(robot.sum()))))
    walk = cv2.morphologyEx(robot.astype(np.uint8), cv2.MORPH_CLOSE,
                            cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))) | robot
    dist = np.full(robot.shape, -1.0, np.float32)
    front = (seeds & robot).astype(np.uint8)
    reached = front.copy()
    step, kernel = 0, np.ones((3, 3), np.uint8)
    while front.any():
        dist[front > 0] = step
        grown = cv2.dilate(front, kernel) & walk & (1 - reached)
        reached |= grown
        front, step = grown, step + 1
    missed = robot & (dist < 0)
    if missed.any():
        straight = cv2.distanceTransform((1 - (seeds & robot)).astype(np.uint8), cv2.DIST_L2, 5)
        dist[missed] = straight[missed]
    dist[~robot] = -1.0
    return dist


def distal(robot: np.ndarray, length: float | None = None, fraction: float = GRIPPER_FRACTION,
           present: np.ndarray | None = None) -> np.ndarray:
    """The part of the robot mask within ``length`` (default ``fraction`` of the reach) of its farthest
    distance along the mask from the base (see :func:`base_seeds`)."""
    out = np.zeros_like(robot, bool)
    if not robot.any():
        return out
    d = reach(robot, base_seeds(robot, present))
    top = float(d.max())
    g = fraction * top if length is None else length
    return robot & (d >= top - g)


def estimate(robot: np.ndarray, length: float | None = None,
             present: np.ndarray | None = None) -> tuple[np.ndarray, tuple[float, float] | None]:
    """Gripper mask and grasp point from the robot mask (and the recording's robot presence) alone."""
    from synth.composite import grasp_point

    grip = distal(robot, length, present=present)
    return grip, grasp_point(robot, grip)


# --------------------------------------------------------------------------------------------- appearance
class Matcher:
    """Searches the clip's gripper appearance in frames of a given size."""

    def __init__(self, clip: ClipGripper, frame_size: tuple[int, int]):
        import cv2

        H, W = frame_size
        self.f = min(1.0, ANALYSIS_WIDTH / W)                  # analysis scale
        self.k = W / clip.size[1]                              # clip -> frame pixels (same camera assumed)
        ys, xs = np.nonzero(clip.region)
        y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
        grey = clip.median[y0:y1, x0:x1].astype(np.float32)                  # colour: fingers differ by hue
        mask = clip.region[y0:y1, x0:x1].astype(np.float32)
        grasp = np.array([clip.grasp[0] - x0, clip.grasp[1] - y0])
        self.length = clip.length * self.k                      # frame pixels
        self.templates = []
        h, w = grey.shape[:2]
        c = np.array([w / 2, h / 2])
        for s in SCALES:
            z = s * self.k * self.f
            side = int(np.ceil(np.hypot(h, w) * z)) + 2
            for a in ANGLES:
                m = cv2.getRotationMatrix2D((float(c[0]), float(c[1])), float(a), z)
                m[:, 2] += side / 2 - c                          # centre of the template -> centre of the canvas
                t = cv2.warpAffine(grey, m, (side, side), flags=cv2.INTER_LINEAR)
                tm = cv2.warpAffine(mask, m, (side, side), flags=cv2.INTER_NEAREST)
                if tm.sum() < 16:
                    continue
                v = m[:, :2] @ (grasp - c)                      # centre -> grasp point, rotated and scaled
                self.templates.append((m, t, (tm > 0.5).astype(np.uint8), v))
        self.grasp_t = grasp

    def match(self, rgb: np.ndarray, robot: np.ndarray, present: np.ndarray | None = None):
        """(score, gripper mask, grasp point) of the best placement, or None when nothing can be searched."""
        import cv2

        from synth.composite import grasp_point

        H, W = robot.shape
        w, h = max(8, round(W * self.f)), max(8, round(H * self.f))
        grey = cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32)
        rob = cv2.resize(robot.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0
        far = distal(rob, length=self.length * self.f, present=present)
        if not far.any():
            return None
        prior = grasp_point(rob, far)                               # the geometric estimate's grasp point
        best = None
        for m, t, tm, v in self.templates:
            side = t.shape[0]
            if side >= min(h, w):
                continue
            res = cv2.matchTemplate(grey, t, cv2.TM_CCOEFF_NORMED, mask=tm)
            res = np.nan_to_num(res, nan=-1.0, posinf=-1.0, neginf=-1.0)
            centre_ok = far[side // 2:side // 2 + res.shape[0], side // 2:side // 2 + res.shape[1]]
            res = np.where(centre_ok, res, -1.0)
            if PRIOR_WEIGHT and prior is not None:  # prefer grasp points near the geometric one
                ys, xs = np.mgrid[0:res.shape[0], 0:res.shape[1]]
                d = np.hypot(xs + side / 2 + v[0] - prior[0], ys + side / 2 + v[1] - prior[1])
                res = res - PRIOR_WEIGHT * d / max(self.length * self.f, 1.0)
            i = int(res.argmax())
            y, x = divmod(i, res.shape[1])
            if best is None or res[y, x] > best[0]:
                best = (float(res[y, x]), m, x, y)
        if best is None:
            return None
        score, m, x, y = best
        a = np.vstack([m, [0, 0, 1]])
        a[0, 2] += x
        a[1, 2] += y
        a = (np.diag([1 / self.f, 1 / self.f, 1]) @ a)[:2]       # template crop -> frame pixels
        region = self._region_mask
        placed = cv2.warpAffine(region, a, (W, H), flags=cv2.INTER_NEAREST) > 0
        g = a @ np.array([self.grasp_t[0], self.grasp_t[1], 1.0])
        return score, placed & robot, (float(g[0]), float(g[1]))

    def set_region(self, clip: ClipGripper) -> "Matcher":
        ys, xs = np.nonzero(clip.region)
        self._region_mask = clip.region[ys.min():ys.max() + 1, xs.min():xs.max() + 1].astype(np.uint8)
        return self


def find_gripper(rgb: np.ndarray, robot: np.ndarray, matcher: Matcher | None, present: np.ndarray | None = None):
    """(gripper mask, grasp point, method, score) for one harvested frame; ``present``: the robot presence
    over the frame's recording (:func:`presence`), which tells where the base is."""
    if matcher is not None:
        found = matcher.match(rgb, robot, present)
        if found is not None and found[0] >= MIN_SCORE and found[1].any():
            # the matched gripper; its grasp point from its end of the chain (the matched template's own grasp
            # point drifts with small errors of the match's angle and scale)
            from synth.composite import grasp_point

            far = distal(robot, matcher.length / 2, present=present)
            tip = found[1] & far
            return found[1], grasp_point(robot, tip if tip.any() else far), "appearance", found[0]
        grip, g = estimate(robot, matcher.length, present)
        return grip, g, "geometry", (found[0] if found else None)
    grip, g = estimate(robot, present=present)
    return grip, g, "geometry", None


# ----------------------------------------------------------------------------------------------- the step
def clip_picture(clip: ClipGripper, path: Path) -> Path:
    """The clip's median frame with the swept area (heat), the gripper region and the grasp point."""
    import cv2

    img = clip.median.astype(np.float32)
    heat = np.clip(clip.energy / max(clip.energy.max(), 1e-6), 0, 1)[..., None]
    img = img * (1 - 0.6 * heat) + np.array([255, 0, 0], np.float32) * 0.6 * heat
    img = tint(img.astype(np.uint8), clip.region, GRIPPER, alpha=0.15)
    x, y = (int(round(v)) for v in clip.grasp)
    cv2.drawMarker(img, (x, y), (0, 255, 255), cv2.MARKER_CROSS, max(6, clip.size[1] // 25), 2)
    scale = max(1, 480 // clip.size[1])
    img = cv2.resize(img, (clip.size[1] * scale, clip.size[0] * scale), interpolation=cv2.INTER_NEAREST)
    atomic_imwrite(path, img)
    return path


def check_clip_size(clip: ClipGripper, rec: Recording, where) -> None:
    """Refuse a clip whose gripper region is about as large as the harvested robot (at the clip's scale): more
    than the fingers moved (the arm, or the camera came much closer)."""
    masks = [rec.read_mask(v, "robot", i) for v in rec.videos
             for i in range(0, rec.num_frames(v), max(1, rec.num_frames(v) // 8))]
    areas = [m.sum() * (clip.size[1] / m.shape[1]) ** 2 for m in masks]
    if areas and clip.region.sum() >= MAX_REGION_OF_ROBOT * float(np.median(areas)):
        raise fail(where, f"what moves in the gripper clip spans {clip.region.sum() / np.median(areas):.0%} of the "
                          "robot's size in the harvest: only the fingers may move (keep the arm still, film from "
                          "the recording's camera)")


def load_clip(path: str, topic: str | None = None) -> tuple[list[np.ndarray], str]:
    """The clip's frames (the first ``MAX_CLIP_FRAMES``; a few seconds are enough) and its description."""
    from itertools import islice

    from ..label.readers import expand_inputs

    sources = expand_inputs([path], topic)
    if len(sources) != 1:
        raise fail(path, f"the gripper clip must be one recording, found {len(sources)}")
    return list(islice(sources[0].frames(), MAX_CLIP_FRAMES)), sources[0].describe()


def gripper_step(work: str | Path, clip_path: str | None = None, topic: str | None = None,
                 progress: bool = True) -> dict:
    """Write gripper masks and grasp points into ``WORK/harvest``; pictures and a summary into ``WORK/gripper``."""
    from tqdm import tqdm

    work = Path(work)
    root = work / "harvest"
    if not (root / "meta.json").exists():
        raise fail(root, "no harvest here: run `distinctnet adapt harvest` first")
    out = work / "gripper"
    rec = Recording(root)
    clip = None
    if clip_path:
        frames, where = load_clip(clip_path, topic)
        clip = analyse_clip(frames, where)
        check_clip_size(clip, rec, where)
        clip_picture(clip, out / "clip.png")
    examples = Examples(per_row=8)
    summary = {"source": "clip" if clip else "estimated", "clip": clip_path,
               "clip_grasp_point": list(clip.grasp) if clip else None,
               "method": ("appearance of the clip's gripper, matched at the far end of the robot mask; "
                          "geometric estimate where the match is weak") if clip else
                         ("estimated without a gripper clip: the part of the robot mask farthest along the mask "
                          "from the robot's base (where the robot stays while its end moves)"),
               "frames": 0, "appearance": 0, "geometry": 0, "no_gripper": 0, "videos": {}}
    matchers: dict[tuple, Matcher] = {}
    for video in rec.videos:
        vm = rec.video_meta(video)
        n = int(vm["frames"])
        grasps, methods, scores = [], [], []
        w = VideoWriter(root, video, annotated_parts=["arm", "gripper", "robot"], static_from=vm.get("static_from"),
                        source=vm.get("source", ""), license=vm.get("license", ""), write_images=False)
        robots = [rec.read_mask(video, "robot", i) for i in range(n)]
        present = presence(robots)                                              # where the base stays
        for i in tqdm(range(n), desc=f"gripper {video}", disable=not progress, leave=False):
            rgb, robot = rec.read_image(video, i), robots[i]
            matcher = None
            if clip is not None:
                key = robot.shape
                if key not in matchers:
                    matchers[key] = Matcher(clip, robot.shape).set_region(clip)
                matcher = matchers[key]
            grip, g, method, score = find_gripper(rgb, robot, matcher, present)
            if not grip.any():
                method = "none"
            w.write(None, {"robot": robot, "gripper": grip})
            grasps.append([round(g[0], 2), round(g[1], 2)] if g is not None else None)
            methods.append(method)
            scores.append(None if score is None else round(score, 3))
            summary[method if method != "none" else "no_gripper"] += 1
            summary["frames"] += 1

            def picture(rgb=rgb, grip=grip, robot=robot, g=g, method=method, i=i):
                import cv2

                img = tint(tint(rgb, robot & ~grip, KEPT, 0.25), grip, GRIPPER)
                if g is not None:
                    cv2.drawMarker(img, (int(round(g[0])), int(round(g[1]))), (0, 255, 255), cv2.MARKER_CROSS,
                                   max(5, rgb.shape[1] // 20), 1)
                return tile(img, f"{video} #{i}")
            examples.offer(method, picture)
        extra = {k: v for k, v in vm.items() if k not in ("frames", "annotated_parts", "static_from", "source",
                                                             "license")}
        extra.update({"grasp_point": grasps, "gripper": {"source": summary["source"], "method_per_frame": methods,
                                                          "score_per_frame": scores}})
        w.extra = extra
        w.frames = n
        w.finish()
        summary["videos"][video] = {"frames": n, "appearance": methods.count("appearance"),
                                    "geometry": methods.count("geometry")}
    sheet = examples.write(out / "gripper.png", f"gripper ({summary['source']}): yellow gripper, green arm, "
                                                "cross = grasp point; rows by method", ["appearance", "geometry"])
    summary["sheet"] = str(sheet) if sheet else None
    summary["clip_picture"] = str(out / "clip.png") if clip else None
    atomic_write_json(out / "gripper.json", summary)
    return summary

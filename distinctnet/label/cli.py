"""``distinctnet label INPUT... --out DIR``: masks of arm, gripper, robot, object and distractors."""
from __future__ import annotations

import argparse
import logging


EPILOG = """examples:
  distinctnet label run.mp4 --out labels                       # default model, labelled-recording tree
  distinctnet label frames/ demo.bag --topic /cam/image_raw --out labels --export robotseg,sam2,coco,overlay
  distinctnet label corpus.txt --out labels --shard 0/4        # one of four processes over a corpus
  distinctnet label corpus.txt --out labels --ray 8            # eight Ray workers

output (DIR):
  image/{video}/{frame:05d}.jpg, mask/{video}/{000 arm|001 gripper|002 robot|003 object|004 distractor}/*.png,
  meta.json (source, annotated_parts, checkpoint), quality/{video}.csv (per-frame margins, review flags),
  exports/{robotseg,sam2,coco,overlay}/. Rerunning resumes: finished videos are skipped, an interrupted
  one is redone; --overwrite relabels. Motion-only checkpoints write the moving foreground into the robot
  part and mark annotated_parts ["foreground"].
"""


def add_pass_arguments(p: argparse.ArgumentParser, prefix: str = "") -> None:
    """The options that decide which pairs and passes the labeller runs (shared with ``distinctnet eval``, whose
    help texts carry ``prefix``)."""
    p.add_argument("--reference", default=None, choices=("previous", "motion"),
                   help=prefix + "which earlier frame each frame is paired with: motion (default): t-1, but through "
                        "a motion stop the last frame that still differs, so the still robot keeps its motion cue; "
                        "previous: always t-1 (the default with --tta bidir, which cannot use motion)")
    p.add_argument("--gap", type=int, default=None, metavar="K",
                   help=prefix + "pair a moving frame t with frame t-K: a longer baseline, a stronger motion cue "
                        "(default 2; 1 with --tta bidir)")
    p.add_argument("--zoom", type=float, default=0.0, metavar="Z",
                   help=prefix + "look again at the gripper and the grasped object on a crop around them, enlarged "
                        "up to Z times (sharper small parts; about twice the compute; default 0, off)")
    p.add_argument("--second-scale", type=float, default=None, metavar="S",
                   help=prefix + "run the network a second time at S x its input size and average the foreground, "
                        "robot and distractor of both passes, the gripper and object per --small-parts (about three times "
                        "the compute; default 1.333 for "
                        "models that take any input size, 1 with --tta bidir; 1 turns it off)")
    from .refine import MODES as REFINE_MODES

    p.add_argument("--refine", default=None, choices=REFINE_MODES,
                   help=prefix + "refine the probabilities with the frame: edges snaps the outlines to the frame's "
                        "colour edges (a guided filter), gate keeps the parts inside the foreground mask only, both "
                        "does both (default both; edges for models without a foreground channel; none turns "
                        "it off)")
    from .parts import EXCLUSIVE

    p.add_argument("--exclusive", default=None, choices=EXCLUSIVE,
                   help=prefix + "where the grasped object's and a distractor's masks overlap: distractor gives the "
                        "pixel to the distractor only, larger to the part further above its own threshold; none "
                        "lets both keep it (default none)")
    from .runner import SMALL_PARTS

    p.add_argument("--small-parts", default=None, choices=SMALL_PARTS,
                   help=prefix + "with two passes, which one the gripper and the grasped object come from: first "
                        "(the input size's, as before 2026-12-02) or larger (the larger size's: sharper small parts, same "
                        "compute; default)")
    from .unmoved import MODES as UNMOVED_MODES

    p.add_argument("--unmoved", default=None, choices=UNMOVED_MODES,
                   help=prefix + "drop: remove the pieces of the gripper, object and distractor masks that touch "
                        "nothing that moved anywhere in the video, and the robot pieces far from anything that moved "
                        "(scenery taken for them; for a fixed camera: a robot that stands still through a whole video "
                        "would be dropped too); keep: leave them (default)")


#: the Labeller keyword arguments that ``add_pass_arguments`` adds, under the same names
PASS_OPTIONS = ("reference", "gap", "zoom", "second_scale", "refine", "exclusive", "small_parts", "unmoved")


def pass_options(args: argparse.Namespace) -> dict:
    """The pass options in ``args`` as Labeller keyword arguments (those ``args`` lacks keep the Labeller's defaults)."""
    return {k: getattr(args, k) for k in PASS_OPTIONS if hasattr(args, k)}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = EPILOG
    p.add_argument("inputs", nargs="*", metavar="INPUT",
                   help="video files (mp4, avi, mkv, mov, webm), frame folders, ROS1 .bag files, ROS2 bag folders, "
                        "labelled-recording trees, or .txt files listing inputs (one per line). "
                        "Default: the bundled sample recording")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="output labelled-recording tree (an existing one resumes: finished videos are skipped)")
    p.add_argument("--checkpoint", metavar="FILE", help="model checkpoint (default: the shipped default model)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="default: auto")
    p.add_argument("--batch", type=int, default=4, help="frames per model call (default 4)")
    p.add_argument("--topic", help="image topic of ROS bags (sensor_msgs/Image or CompressedImage)")
    p.add_argument("--export", metavar="FMT[,FMT]",
                   help="also write exports under DIR/exports/: robotseg, sam2, coco, overlay")
    p.add_argument("--overwrite", action="store_true", help="relabel the videos even where they are finished")
    p.add_argument("--shard", metavar="I/N", help="label only every N-th input video starting at the I-th")
    p.add_argument("--tta", default="none", choices=("none", "flip", "bidir"),
                   help="test-time augmentation: flip also labels the mirrored video and averages both "
                        "(twice the compute); bidir decodes each frame against the frame before and the "
                        "frame after and averages both (non-recurrent models; default none)")
    p.add_argument("--clean", type=float, default=0.0, metavar="RATIO",
                   help="drop the pieces of each frame's robot mask smaller than RATIO x its largest piece "
                        "(speckles away from the arm; default 0, off)")
    add_pass_arguments(p)
    p.add_argument("--compile", action="store_true",
                   help="run the network through torch.compile: a minute or two of compiling first, then faster "
                        "(for long jobs; the same masks)")
    p.add_argument("--input-size", metavar="HxW", default=None,
                   help="size the frames are resized to for the network (default: the model's native size)")
    p.add_argument("--threshold", type=float, default=None,
                   help="probability threshold for the masks of all parts (default: the checkpoint's calibrated "
                        "per-part thresholds, else 0.5)")
    p.add_argument("--review-margin", type=float, default=None,
                   help="flag a frame for review when a part's mean margin |p-0.5|*2 is below this, for all parts "
                        "(default: the checkpoint's calibrated per-part margins, else 0.6)")
    p.add_argument("--write-workers", type=int, default=None, metavar="N",
                   help="threads that encode and write the image and mask files (default: min(8, CPU cores))")
    p.add_argument("--jpeg-quality", type=int, default=95, help="quality of the image/ JPGs (95)")
    p.add_argument("--fps", type=float, default=15.0, help="frame rate of the overlay videos (15)")
    p.add_argument("--ray", type=int, default=0, metavar="WORKERS",
                   help="label the inputs on this many Ray workers (needs the 'ray' extra)")
    p.add_argument("--ray-address", default=None, help="Ray cluster address (default: start a local one)")
    p.add_argument("--ray-gpus", type=float, default=None, metavar="G",
                   help="GPUs per Ray worker (default 1 when CUDA is used, else 0; 0.5 puts two workers on a GPU)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")


class _Formatter(logging.Formatter):
    def format(self, record):
        record.levelname = record.levelname.lower()
        return super().format(record)


def run(args) -> int:
    import sys

    from tqdm.contrib.logging import logging_redirect_tqdm

    from ..errors import UserError
    if args.review_margin is not None and not 0.0 <= args.review_margin <= 1.0:
        raise UserError("--review-margin must be between 0 and 1")
    if args.batch < 1:
        raise UserError("--batch must be at least 1")
    if args.threshold is not None and not 0.0 < args.threshold < 1.0:
        raise UserError("--threshold must be between 0 and 1")
    if isinstance(args.input_size, str):
        from ..argtypes import parse_size

        args.input_size = parse_size(args.input_size, option="--input-size")
    log = logging.getLogger("distinctnet.label")
    for h in [h for h in log.handlers if getattr(h, "_distinctnet_label", False)]:
        log.removeHandler(h)
    handler = logging.StreamHandler(sys.stderr)  # the current stderr (tests swap it between runs)
    handler._distinctnet_label = True
    handler.setFormatter(_Formatter("distinctnet label: %(levelname)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    with logging_redirect_tqdm(loggers=[log]):
        if args.ray:
            if args.shard:
                raise UserError("use either --shard or --ray, not both")
            from .distributed import run_ray

            summaries = run_ray(args, args.ray, args.ray_address)
        else:
            from .app import run_label

            summaries = [run_label(args)]
    from .pipeline import summary_text

    failed = [f for s in summaries for f in s.failed]
    merged = summaries[0]
    for s in summaries[1:]:
        merged.labelled += s.labelled
        merged.skipped += s.skipped
        merged.failed += s.failed
        merged.frames += s.frames
        merged.review += s.review
    print(summary_text(merged, args.out), file=sys.stderr)
    if failed:
        total = len(merged.labelled) + len(merged.skipped) + len(failed)
        if total == 1:
            raise UserError(failed[0][1])
        raise UserError(f"{len(failed)} of {total} video(s) failed (the others are done), first: {failed[0][1]}")
    return 0

"""eval.metrics: the paper's dataset IoU against hand-computed counts."""
import numpy as np
import pytest

from distinctnet.layout import complete_parts

from eval.metrics import CLASSES, IoUAccumulator, class_masks, confusion, iou_from_counts, scored_classes

ALL = ("arm", "gripper", "robot", "object", "distractor")


def masks(shape=(4, 6), **given):
    """All five parts as a tree stores them (arm = robot & ~gripper filled in, the rest empty)."""
    return complete_parts(given, shape)


def box(shape, y0, y1, x0, x1):
    m = np.zeros(shape, bool)
    m[y0:y1, x0:x1] = True
    return m


def test_confusion_and_iou_by_hand():
    gt = box((4, 6), 0, 2, 0, 3)      # 6 px
    pred = box((4, 6), 1, 3, 0, 3)    # 6 px, 3 overlap
    assert confusion(pred, gt) == (3, 3, 3)
    assert iou_from_counts(3, 3, 3) == pytest.approx(100 / 3)
    assert iou_from_counts(0, 0, 0) is None
    assert iou_from_counts(0, 5, 0) == 0.0


def test_dataset_iou_sums_counts_not_mean_of_frames():
    s = (4, 6)
    acc = IoUAccumulator()
    small = box(s, 0, 2, 0, 2)        # 4 px
    big = box(s, 0, 4, 0, 3)          # 12 px
    f1 = acc.update(masks(robot=small), masks(robot=small), ALL)
    f2 = acc.update(masks(), masks(robot=big), ALL)
    assert f1["robot"] == 100.0 and f2["robot"] == 0.0
    r = acc.result()
    assert r["robot"] == {"iou": pytest.approx(25.0), "tp": 4, "fp": 0, "fn": 12, "frames": 2}
    # per-frame mean would be 50: the dataset IoU is 4 / 16
    assert r["foreground"]["iou"] == pytest.approx(25.0)
    # background = ~foreground: frame 1: 20 px both; frame 2: pred 24, gt 12 -> TP 32, FP 12, FN 0
    assert (r["background"]["tp"], r["background"]["fp"], r["background"]["fn"]) == (32, 12, 0)
    assert r["background"]["iou"] == pytest.approx(100 * 32 / 44)
    # arm = the robot mask here (no gripper), gripper never present anywhere -> undefined
    assert r["arm"]["iou"] == pytest.approx(25.0)
    assert r["gripper"]["iou"] is None and r["gripper"]["frames"] == 2
    assert r["object"]["iou"] is None


def test_empty_prediction_and_empty_gt():
    s = (4, 6)
    acc = IoUAccumulator()
    acc.update(masks(), masks(object=box(s, 0, 1, 0, 6)), ALL)       # empty prediction: FN 6
    acc.update(masks(distractor=box(s, 3, 4, 0, 2)), masks(), ALL)   # empty GT: FP 2
    r = acc.result()
    assert r["object"]["iou"] == 0.0 and r["object"]["fn"] == 6
    assert r["distractor"]["iou"] == 0.0 and r["distractor"]["fp"] == 2
    assert r["robot"]["iou"] is None


def test_annotated_parts_rule():
    assert scored_classes(["robot"]) == ("robot",)
    assert scored_classes(["arm", "gripper"]) == ("robot", "arm", "gripper")
    assert scored_classes(["robot", "gripper"]) == ("robot", "arm", "gripper")
    assert scored_classes(["robot", "object", "distractor"]) == (
        "background", "foreground", "robot", "object", "distractor")
    assert scored_classes(ALL) == CLASSES
    with pytest.raises(ValueError, match="unknown annotated parts"):
        scored_classes(["hand"])


def test_unannotated_parts_are_skipped():
    s = (4, 6)
    acc = IoUAccumulator()
    # robot-only clip: the wrong object prediction and the foreground must not count
    f = acc.update(masks(robot=box(s, 0, 2, 0, 2), object=box(s, 2, 4, 2, 6)),
                   masks(robot=box(s, 0, 2, 0, 2)), ["robot"])
    assert f == {"robot": 100.0}
    # fully annotated clip
    acc.update(masks(object=box(s, 0, 1, 0, 2)), masks(object=box(s, 0, 1, 0, 4)), ALL)
    r = acc.result()
    assert r["robot"]["frames"] == 2 and r["object"]["frames"] == 1 and r["foreground"]["frames"] == 1
    assert r["object"]["iou"] == pytest.approx(50.0)
    assert r["robot"]["iou"] == pytest.approx(100.0)
    assert r["foreground"]["iou"] == pytest.approx(50.0)


def test_class_masks_and_merge():
    s = (4, 6)
    m = class_masks(masks(arm=box(s, 0, 1, 0, 1), distractor=box(s, 3, 4, 5, 6)))
    assert m["foreground"].sum() == 2 and m["background"].sum() == 22
    a, b = IoUAccumulator(), IoUAccumulator()
    a.update(masks(robot=box(s, 0, 2, 0, 2)), masks(robot=box(s, 0, 2, 0, 2)), ALL)
    b.update(masks(), masks(robot=box(s, 0, 2, 0, 2)), ALL)
    assert a.merge(b).result()["robot"]["iou"] == pytest.approx(50.0)
    with pytest.raises(ValueError, match="shape|ground truth"):
        confusion(np.zeros((2, 2)), np.zeros((3, 2)))

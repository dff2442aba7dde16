"""``distinctnet adapt``: teach the model a new robot from recordings of it, without annotation.

The chain (each step also runs on its own and leaves its results in the work folder for the user to look at):

1. harvest (harvest.py): the base model's moving-foreground masks over recordings of the robot moving in
   front of a static background; confident, temporally consistent, plausible masks become robot cut-outs
   in ``WORK/harvest`` (a labelled-recording tree), with counts per drop reason and a contact sheet.
   Recordings that are too short, where nothing moves or where the camera moves are refused (checks.py).
2. gripper (gripper.py): the gripper and its grasp point, from a clip of the gripper opening and closing
   at a still pose (the moving region = the fingers), matched by appearance onto the harvested frames;
   without the clip, estimated as the far end of the robot mask from where it enters the image.
3. composite (pairs.py): fine-tuning pairs from the harvested cut-outs with the compositor
   (``synth.composite``), in ``WORK/pairs``.
4. finetune (finetune.py): the semantic (and, for a recurrent base, the recurrent) stage of the training
   package (``training``), started from the base checkpoint; MODEL in the project's checkpoint format and
   ``WORK/report.md`` (report.py).

How to record and what to look at: ``distinctnet/adapt/README.md``.
"""

"""The labeller: raw manipulation recordings -> labelled-recording trees (+ RobotSeg, SAM 2, COCO, overlays).

Modules: readers (inputs -> frame streams), frames (RGB normalisation), rosimg (ROS image messages),
runner (model over frame pairs), parts (channels -> layout parts), quality (per-frame review flags),
pipeline (resume, overwrite, shards, disk-full), exports + overlay (other tools' formats), model
(checkpoint loading), app + cli (the ``distinctnet label`` command), distributed (Ray workers).
"""

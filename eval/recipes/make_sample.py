"""Encode one rendered recording as the bundled sample video (distinctnet/assets/sample.mp4).

    python eval/recipes/make_sample.py data/v0/heldout_ext panda_s900_00001 distinctnet/assets/sample.mp4
"""
import sys

import av

from distinctnet.layout import Recording


def main(root: str, video: str, out: str, fps: int = 15) -> None:
    rec = Recording(root)
    with av.open(out, "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        first = rec.read_image(video, 0)
        stream.height, stream.width = first.shape[:2]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "20"}
        for i in range(rec.num_frames(video)):
            frame = av.VideoFrame.from_ndarray(rec.read_image(video, i), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())


if __name__ == "__main__":
    main(*sys.argv[1:4])

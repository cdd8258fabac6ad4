"""Draw docs/images/network_gain.png: the capacity gained by network positioning.

Run:  python docs/make_network_image.py

The built-in layout (19 three-sector sites, 500 m ISD, 25 m masts), the planner's map
defaults (3-D antenna, UE at 1.5 m, a 5 cm target, the time and frequency splits), 5 m
pixels; for each pixel the best scheme's capacity with the fused bound of the 4 strongest
cells (ToA and AoA, PRS reuse 1) minus that with the serving cell's bound. Prints the
numbers quoted in docs/model.md.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import ilac_plan as ip  # noqa: E402
from ilac_plan.layouts import hexagonal_layout  # noqa: E402

OUT = Path(__file__).resolve().parent / "images" / "network_gain.png"


def main():
    sites = hexagonal_layout()
    g = np.arange(-1000.0, 1000.0, 5.0) + 2.5
    x, y = np.meshgrid(g, g)
    kw = dict(target_error_m=0.05, antenna="3gpp", ue_height_m=1.5)
    serving = ip.evaluate(sites, x, y, **kw)
    net = ip.evaluate(sites, x, y, positioning="network", n_cells=4, capacity_gain=False, **kw)

    def best_capacity(frame):
        return np.maximum(frame.time_capacity_bps, frame.frequency_capacity_bps).to_numpy()

    gain = (best_capacity(net) - best_capacity(serving)).reshape(x.shape) / 1e6
    share_s = np.minimum(serving.time_loc_share, serving.frequency_loc_share)
    share_n = np.minimum(net.time_loc_share, net.frequency_loc_share)
    print(f"pixels {gain.size}; capacity gained [Mbit/s]: median {np.median(gain):.2f}, "
          f"p95 {np.percentile(gain, 95):.2f}, max {gain.max():.2f}; never negative: "
          f"{bool((gain >= 0).all())}")
    print(f"positioning share (the lower of the two schemes): median {np.median(share_s):.4f} "
          f"-> {np.median(share_n):.4f}; feasible {np.mean(serving.best_scheme != 'infeasible'):.3f}"
          f" -> {np.mean(net.best_scheme != 'infeasible'):.3f}")
    fig, ax = plt.subplots(figsize=(6.4, 5.2), dpi=110)
    im = ax.imshow(gain, origin="lower", extent=(g[0], g[-1], g[0], g[-1]), cmap="viridis")
    ax.plot(sites.x_m, sites.y_m, "w^", ms=4, mec="k", mew=0.5)
    ax.set_xlabel("x [m]")
    ax.set_ylabel("y [m]")
    ax.set_title("Capacity gained by network positioning (4 cells, ToA+AoA)\n"
                 "best scheme, 5 cm target, vs the serving cell's bound", fontsize=9)
    fig.colorbar(im, ax=ax, label="capacity gained [Mbit/s]")
    fig.tight_layout()
    OUT.parent.mkdir(exist_ok=True)
    fig.savefig(OUT)


if __name__ == "__main__":
    main()

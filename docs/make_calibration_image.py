"""Draw docs/images/calibration.png and print the comparison table of docs/calibration.md.

Runs the TR 38.901 large-scale calibration of every scenario and carrier (default drops,
seed 0) and draws, per scenario, the coupling-loss and geometry CDFs of the three
carriers beside the 3GPP reference curves (R1-165974).

    python docs/make_calibration_image.py
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from ilac_plan_3gpp import calibration as cal  # noqa: E402

OUT = Path(__file__).parent / "images" / "calibration.png"
COLOURS = {6: "tab:blue", 30: "tab:red", 70: "k"}


def main():
    fig, axes = plt.subplots(2, 3, figsize=(14, 7.5))
    print("| scenario | carrier | UEs | coupling loss: largest difference | at | "
          "geometry: largest difference | at |")
    print("|---|---|---|---|---|---|---|")
    for col, scenario in enumerate(cal.SCENARIOS):
        for ghz in cal.CARRIERS_GHZ:
            result = cal.calibrate(scenario, ghz)
            cmp = result.comparison()
            ref = cal.reference(scenario, ghz)
            cells = []
            for key in ("coupling_loss", "geometry"):
                diff = cmp[f"{key}_diff_db"].to_numpy()
                k = int(np.argmax(np.abs(diff)))
                cells += [f"{diff[k]:+.2f} dB", f"{cmp.percentile.iloc[k]} %"]
            print(f"| {scenario} | {ghz} GHz | {result.coupling_loss_db.size:,} | "
                  + " | ".join(cells) + " |")
            for row, (values, key) in enumerate(((result.coupling_loss_db, "coupling_loss_db"),
                                                 (result.geometry_db, "geometry_db"))):
                ax = axes[row, col]
                v = np.sort(values)
                ax.plot(v, 100 * (np.arange(v.size) + 0.5) / v.size, color=COLOURS[ghz],
                        lw=2, label=f"{ghz} GHz")
                ax.plot(ref[key], ref["percentile"], "+--", color=COLOURS[ghz], lw=1)
        axes[0, col].set_title(f"{scenario} (lines: ilac_plan; +--: 3GPP R1-165974)",
                               fontsize=10)
        axes[0, col].set_xlabel("coupling loss [dB]")
        axes[1, col].set_xlabel("geometry (S/I) [dB]")
        axes[1, col].set_xlim(-8, 32)
        for row in range(2):
            axes[row, col].set_ylabel("CDF [%]")
            axes[row, col].grid(True, alpha=0.4)
            axes[row, col].legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(OUT, dpi=90)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()

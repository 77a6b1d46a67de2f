"""The resnet8 quantization playground: a marimo app over this toolkit's files and C++ tools.

    scripts/playground.sh                      # serve it on 127.0.0.1 (marimo run)
    scripts/playground.sh --edit               # marimo edit
    scripts/playground.sh -- --folder DIR      # also list the model files in DIR

Arguments after `--` (mo.cli_args()): --folder DIR, --model FILE (the file chosen first; else the int8 file
scripts/run.sh writes, data/resnet8_int8.pt), --what-if-now (run the what-if at start, as the headless test
does), --test-images N, --calib-per-class N.
The heavy work runs in the C++ tools with --json (resnet8-eval, resnet8-analyze, resnet8-ptq); this file
only lays it out (playground/tools.py reads files and runs the tools)."""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="resnet8 quantization playground")


@app.cell
def _():
    import sys
    from pathlib import Path

    import altair as alt
    import marimo as mo
    import numpy as np
    import pandas as pd

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import tools

    # Chart data inline in each chart's spec: charts redrawn while a slider moves then never ask the server for
    # a data file that the cell's new run has already dropped ("Virtual file not found" in the log).
    from marimo._plugins.ui._impl.charts.altair_transformer import register_transformers

    register_transformers()
    alt.data_transformers.enable("marimo_inline_csv")
    args = mo.cli_args()
    return Path, alt, args, mo, np, pd, tools


@app.cell
def _(mo, tools):
    _missing = tools.missing_setup()
    mo.vstack(
        [
            mo.md(
                "# resnet8 quantization playground\n"
                "Pick a model file, look into its layers, and ask *what if* a plan were made differently. "
                "Numbers come from the C++ tools (`resnet8-eval`, `resnet8-analyze`, `resnet8-ptq`)."
            ),
            mo.callout(mo.md("\n\n".join(_missing)), kind="danger") if _missing else mo.md(""),
        ]
    )
    return


@app.cell
def _(args, mo, tools):
    folder = mo.ui.text(
        value=str(args.get("folder") or tools.DATA), label="Another folder with model files", full_width=True
    )
    folder
    return (folder,)


@app.cell
def _(mo):
    # After a write: the file written (the picker lists it and picks it), and what the write said, shown
    # until the next one (the controls are made again for the new file, so the write's own cell clears).
    get_written, set_written = mo.state(None)
    get_write_result, set_write_result = mo.state(None)
    return get_write_result, get_written, set_write_result, set_written


@app.cell
def _(Path, args, folder, get_written, mo, tools):
    files, _ = tools.model_files(tools.DATA, tools.WORK / "files")  # the app's own folders: absent is fine
    _extra, _notes = tools.model_files(Path(folder.value).expanduser())
    files += [f for f in _extra if f not in files]
    _names = {str(p): str(p) for p in files}
    _wanted = [get_written(), args.get("model"), tools.DATA / "resnet8_int8.pt"]  # a file just written first
    _wanted = [str(Path(w).resolve()) for w in _wanted if w]
    _start = next((n for w in _wanted for n in _names if str(Path(n).resolve()) == w), next(iter(_names), None))
    model = mo.ui.dropdown(options=_names, value=_start, label="Model file", full_width=True)
    mo.vstack(
        [
            mo.md("## Models"),
            model if files else mo.callout("No .pt, .onnx or .tflite file found.", kind="warn"),
            *[mo.callout(mo.md(tools.md_text(n)), kind="warn") for n in _notes],
        ]
    )
    return files, model


@app.cell
def _(mo):
    evaluate_button = mo.ui.run_button(label="Evaluate on the 10,000 test images (resnet8-eval)")
    return (evaluate_button,)


@app.cell
def _(evaluate_button, mo, model, tools):
    mo.stop(model.value is None)
    try:
        _row = tools.summary(model.value)
        if evaluate_button.value:
            with mo.status.spinner(title="resnet8-eval on the test set ..."):
                _report = tools.evaluation(model.value)
        else:
            _report = tools.cached_evaluation(model.value)
        _row["accuracy"] = (
            f"{100 * _report['accuracy']:.2f} % ({_report['correct']}/{_report['images']}, "
            f"{_report['images_per_second']:.0f} images/s)"
            if _report
            else "not evaluated yet"
        )
        _out = mo.vstack(
            [mo.ui.table([{"field": k, "value": v} for k, v in _row.items()], selection=None), evaluate_button]
        )
    except tools.PlaygroundError as e:
        _out = mo.callout(mo.md(tools.md_text(e)), kind="danger")
    _out
    return


@app.cell
def _(mo, model, np, tools):
    # The chosen file's layers: from its resnet8-ptq report (fp32 and integer weights), or a .tflite's tensors.
    layer_data, layer_note = {}, ""
    if model.value is not None:
        try:
            _path = tools.Path(model.value)
            _report = tools.report_for(_path) if _path.suffix == ".pt" else None
            if _report and _report.get("weights"):
                _plan = _report["ptq"]["plan"]
                for _layer in _plan["layers"]:
                    _w = _report["weights"][_layer["layer"]]
                    layer_data[_layer["layer"]] = {
                        "shape": _w["shape"],
                        "fp32": np.asarray(_w["fp32_weights"], dtype=np.float64).reshape(_w["shape"]),
                        "int": None if _layer["kept_float"] else np.asarray(_w["weights"]).reshape(_w["shape"]),
                        "scales": _layer["weight_scales"],
                        "bits": _plan["weight_bits"],
                    }
            elif _path.suffix == ".tflite":
                for _name, (_shape, _kind, _scales, _values) in tools.tflite_tensors(_path).items():
                    layer_data[_name] = {
                        "shape": _shape,
                        "fp32": None,
                        "int": np.asarray(_values).reshape(_shape),
                        "scales": _scales,
                        "bits": 4 if _kind == "INT4" else 8,
                    }
                layer_note = "A .tflite holds integers and scales only: no fp32 weights to compare with."
            elif _path.suffix == ".onnx":
                layer_note = "The layers of an ONNX file are shown through its int8 twin: pick the .pt beside it."
            else:
                layer_note = (
                    "No resnet8-ptq report with weights beside this file (FILE.json from `resnet8-ptq --json "
                    "FILE.json --json-weights`): write one from *What if* below, or pick a file that has one."
                )
        except tools.PlaygroundError as e:
            layer_note = str(e)
    layer = mo.ui.dropdown(options=list(layer_data), value=next(iter(layer_data), None), label="Layer")
    bins = mo.ui.slider(10, 200, value=60, step=10, label="Histogram bins", show_value=True)
    return bins, layer, layer_data, layer_note


@app.cell
def _(layer, layer_data, mo):
    _d = layer_data.get(layer.value)
    if _d is not None and _d["fp32"] is not None:
        _m = float(f"{float(abs(_d['fp32']).max()):.2e}") * 1.01  # three digits, a little past the largest
        clip = mo.ui.range_slider(
            start=-_m,
            stop=_m,
            step=_m / 200,
            value=[-_m, _m],
            label="Clipping range (min, max)",
            full_width=True,
            show_value=True,
        )
    else:
        clip = None  # no fp32 weights to clip
    return (clip,)


@app.cell
def _(alt, bins, clip, layer, layer_data, layer_note, mo, np, pd, tools):
    def _chart(rows, title):
        return (
            alt.Chart(pd.DataFrame(rows), title=title)
            .mark_bar(opacity=0.6)
            .encode(
                x=alt.X("from:Q", title="value"),
                x2="to:Q",
                y=alt.Y("count:Q", stack=None),
                y2=alt.datum(0),
                color="series:N",
                tooltip=["series", "from", "to", "count"],
            )
            .properties(width=600, height=220)
        )

    def _layer_view(d):
        w, q, scales, b = d["fp32"], d["int"], d["scales"], d["bits"]
        parts, stats = [], []
        if q is not None and scales:
            deq = q * np.asarray(scales, dtype=np.float64).reshape((-1,) + (1,) * (q.ndim - 1))
        else:
            deq = None
        if w is not None:
            lo, hi = float(w.min()), float(w.max())
            rows = tools.histogram_rows(w, bins.value, "fp32", lo, hi)
            if deq is not None:
                rows += tools.histogram_rows(deq, bins.value, f"int{b}, dequantized", lo, hi)
            chart = _chart(rows, f"{layer.value}: fp32 beside quantized")
            if clip is not None:  # the clipping range chosen below, drawn on the weights it clips
                bounds = pd.DataFrame({"bound": list(clip.value), "which": ["clip min", "clip max"]})
                chart = chart + alt.Chart(bounds).mark_rule(color="black", strokeDash=[4, 3]).encode(
                    x="bound:Q", tooltip=["which", "bound"]
                )
            parts.append(mo.ui.altair_chart(chart))
        if q is not None:
            parts.append(_chart(tools.histogram_rows(q, bins.value, f"int{b} grid"), f"{layer.value}: the integers"))
        if scales:
            sc = pd.DataFrame({"channel": range(len(scales)), "scale": scales})
            parts.append(
                alt.Chart(sc, title="weight scale per output channel")
                .mark_bar()
                .encode(x="channel:O", y="scale:Q", tooltip=["channel", "scale"])
                .properties(width=600, height=160)
            )
        if w is not None and deq is not None:
            per = tools.per_channel_sqnr(w, deq)
            stats.append(
                f"Plan: range [{w.min():.4f}, {w.max():.4f}], SQNR {tools.sqnr_db(w, deq):.1f} dB for the layer, "
                f"{min(per):.1f} to {max(per):.1f} dB per channel."
            )
        if w is not None and clip is not None:
            lo, hi = clip.value
            w_hat, scale = tools.clipped(w, lo, hi, b)
            per = tools.per_channel_sqnr(w, w_hat)
            stats.append(
                f"Clipped to [{lo:.4f}, {hi:.4f}] and quantized per tensor at {b} bits (scale {scale:.3g}): "
                f"SQNR {tools.sqnr_db(w, w_hat):.1f} dB for the layer, {min(per):.1f} to {max(per):.1f} dB per "
                f"channel; {int((w < lo).sum() + (w > hi).sum())} of {w.size} weights clipped."
            )
        return parts, stats

    _items = [mo.md("## Layers")]
    if layer_note:
        _items.append(mo.callout(mo.md(tools.md_text(layer_note)), kind="info"))
    if layer.value is not None:
        _parts, _stats = _layer_view(layer_data[layer.value])
        _items += [
            mo.hstack([layer, bins]),
            clip if clip is not None else mo.md(""),
            mo.md("\n\n".join(_stats)),
            *_parts,
        ]
    mo.vstack(_items)
    return


@app.cell
def _(mo, model, pd, tools):
    # Activation points of the chosen file's plan: what calibration saw against the range chosen.
    try:
        _report = tools.report_for(model.value) if model.value and str(model.value).endswith(".pt") else None
    except tools.PlaygroundError:
        _report = None  # the Layers section says what is wrong with it
    if _report:

        def _num(x):
            return float(f"{x:.4g}") if isinstance(x, (int, float)) else None

        def _pair(a, key):
            v = a.get(key)
            return v if isinstance(v, list) and len(v) == 2 and all(isinstance(x, (int, float)) for x in v) else [0, 0]

        _rows = []
        for a in _report["ptq"]["plan"]["activations"]:
            _obs, _rng = _pair(a, "observed"), _pair(a, "range")
            _rows.append(
                {
                    "point": str(a.get("point")),
                    "observed": f"{_num(_obs[0])} .. {_num(_obs[1])}",
                    "chosen": f"{_num(_rng[0])} .. {_num(_rng[1])}",
                    "scale": _num(a.get("scale")),
                    "zero point": a.get("zero_point"),
                    "clipped %": round(100 * max(0.0, 1 - _rng[1] / _obs[1]), 1) if _obs[1] > 0 else None,
                }
            )
        _out = mo.vstack(
            [
                mo.md("### Activation points: observed against chosen range"),
                mo.ui.table(pd.DataFrame(_rows), selection=None),
            ]
        )
    else:
        _out = mo.md("")
    _out
    return


@app.cell
def _(args, mo, model, tools):
    # The controls start from the chosen file's own settings (its recorded plan), else resnet8-ptq's defaults.
    try:
        _s, _from = tools.settings_of(model.value)
    except tools.PlaygroundError:
        _s, _from = dict(tools.PTQ_DEFAULTS), "the controls start from resnet8-ptq's defaults"
    _notes = []

    def _number(name, lo, hi, default):  # an app argument outside the control's range is said, not clamped silently
        value = args.get(name)
        try:
            value = int(value) if value is not None else default
        except ValueError:
            _notes.append(f"--{name} {value}: not an integer; {default} used.")
            return default
        if not lo <= value <= hi:
            _notes.append(f"--{name} {value}: outside {lo}..{hi}; {min(max(value, lo), hi)} used.")
        return min(max(value, lo), hi)

    weight_bits = mo.ui.dropdown([str(b) for b in range(2, 9)], value=str(_s["weight_bits"]), label="weight bits")
    activation_bits = mo.ui.dropdown(
        [str(b) for b in range(2, 9)], value=str(_s["activation_bits"]), label="activation bits"
    )
    observer = mo.ui.dropdown(["minmax", "percentile", "mse"], value=_s["observer"], label="observer")
    per_channel = mo.ui.switch(value=_s["per_channel"], label="per-channel weights")
    weight_range = mo.ui.dropdown(["max", "mse"], value=_s["weight_range"], label="weight range")
    rounding = mo.ui.dropdown(["nearest", "adaround"], value=_s["rounding"], label="rounding")
    equalize = mo.ui.checkbox(value=_s["equalize"], label="cross-layer equalization")
    bias_correction = mo.ui.checkbox(value=_s["bias_correction"], label="bias correction")
    fp32_layers = mo.ui.multiselect(tools.LAYERS, value=_s["fp32_layers"], label="layers kept in fp32")
    test_images = mo.ui.number(
        100, 10000, step=100, value=_number("test-images", 100, 10000, 2000), label="test images (100..10000)"
    )
    calib_per_class = mo.ui.number(
        1, 500, value=_number("calib-per-class", 1, 500, min(_s["calib_per_class"], 500)),
        label="calibration per class (1..500)",
    )  # fmt: skip
    run_what_if = mo.ui.run_button(label="Run the what-if (resnet8-analyze, simulated)")
    write_file = mo.ui.run_button(label="Write the real file (resnet8-ptq) and evaluate it")
    mo.vstack(
        [
            mo.md("## What if"),
            mo.md(f"*{tools.md_text(_from)}.*"),
            *[mo.callout(mo.md(tools.md_text(n)), kind="warn") for n in _notes],
            mo.hstack([weight_bits, activation_bits, observer, per_channel]),
            mo.hstack([weight_range, rounding, equalize, bias_correction]),
            mo.hstack([fp32_layers, test_images, calib_per_class]),
            mo.hstack([run_what_if, write_file]),
        ]
    )
    return (
        activation_bits,
        bias_correction,
        calib_per_class,
        equalize,
        fp32_layers,
        observer,
        per_channel,
        rounding,
        run_what_if,
        test_images,
        weight_bits,
        weight_range,
        write_file,
    )


@app.cell
def _(
    activation_bits,
    bias_correction,
    calib_per_class,
    equalize,
    fp32_layers,
    observer,
    per_channel,
    rounding,
    test_images,
    weight_bits,
    weight_range,
):
    settings = {
        "weight_bits": int(weight_bits.value),
        "activation_bits": int(activation_bits.value),
        "observer": observer.value,
        "per_channel": bool(per_channel.value),
        "weight_range": weight_range.value,
        "rounding": rounding.value,
        "adaround_iterations": 2000,
        "equalize": bool(equalize.value),
        "bias_correction": bool(bias_correction.value),
        "fp32_layers": sorted(fp32_layers.value),
        "test_images": int(test_images.value),
        "calib_per_class": int(calib_per_class.value),
    }
    return (settings,)


@app.cell
def _(alt, args, mo, pd, run_what_if, settings, tools):
    mo.stop(not (run_what_if.value or "what-if-now" in args), mo.md("*Set the controls and run the what-if.*"))
    try:
        with mo.status.spinner(
            title=f"resnet8-analyze: calibrating on {settings['calib_per_class'] * 10} images, simulating "
            f"on {settings['test_images']} test images ..."
        ):
            _w = tools.what_if(settings)
        _fp32, _sim = _w["fp32"], _w["simulated"]
        _rows = [
            {
                "class": a["name"],
                "fp32 %": round(100 * a["accuracy"], 1),
                f"{_w['config']} %": round(100 * b["accuracy"], 1),
                "delta pp": round(100 * (b["accuracy"] - a["accuracy"]), 1),
            }
            for a, b in zip(_fp32["per_class"], _sim["per_class"])
        ]
        _classes = [a["name"] for a in _fp32["per_class"]]  # the tools' class names, in label order
        _cells = [
            {
                "true": _classes[i],
                "predicted": _classes[j],
                "count": _sim["confusion_matrix"][i][j],
                "vs fp32": _sim["confusion_matrix"][i][j] - _fp32["confusion_matrix"][i][j],
            }  # fmt: skip
            for i in range(len(_classes))
            for j in range(len(_classes))
        ]
        _heat = (
            alt.Chart(pd.DataFrame(_cells), title="confusion matrix: simulated minus fp32 (hover for counts)")
            .mark_rect()
            .encode(
                x=alt.X("predicted:N", sort=_classes),
                y=alt.Y("true:N", sort=_classes),
                color=alt.Color("vs fp32:Q", scale=alt.Scale(scheme="redblue", domainMid=0)),
                tooltip=["true", "predicted", "count", "vs fp32"],
            )
            .properties(width=380, height=380)
        )
        _chance = (
            [
                mo.callout(
                    f"{100 * _sim['accuracy']:.1f} % is at or below chance (10 %): at {_w['config']} this plan no "
                    "longer classifies; more bits (or fp32 layers) bring it back.",
                    kind="warn",
                )
            ]
            if _sim["accuracy"] <= 0.11
            else []
        )
        _out = mo.vstack(
            [
                mo.md(
                    f"**what-if accuracy: {100 * _sim['accuracy']:.2f} %** ({_w['config']}, {_w['weights']}; "
                    f"fp32 {100 * _fp32['accuracy']:.2f} % on the same {_sim['images']} test images)"
                ),
                *_chance,
                mo.hstack([mo.ui.table(pd.DataFrame(_rows), selection=None), mo.ui.altair_chart(_heat)]),
            ]
        )
    except tools.PlaygroundError as e:
        _out = mo.callout(mo.md(tools.md_text(e)), kind="danger")
    _out
    return


@app.cell
def _(mo, settings, tools):
    # Which files the plan can be written as, and why not the others.
    _formats, _why_not = tools.formats_for(settings)
    mo.md(
        f"*Writes the int8 `.pt` with its report{''.join(f' and the .{f}' for f in _formats)}.*"
        + "".join(f"\n\n*Not written: {tools.md_text(w)}*" for w in _why_not)
    )
    return


@app.cell
def _(mo, set_write_result, set_written, settings, tools, write_file):
    mo.stop(not write_file.value)
    _name = tools.cache_name("resnet8-ptq", repr(sorted(settings.items())))
    try:
        with mo.status.spinner(title="resnet8-ptq: writing the real file and evaluating it ..."):
            _written, _stdout = tools.write_real_file(
                settings, f"w{settings['weight_bits']}a{settings['activation_bits']}_{_name}"
            )
        set_write_result(
            {
                "text": "Wrote "
                + ", ".join(tools.md_text(p.name) for p in _written)
                + f" into {tools.md_text(_written[0].parent)}; *Models* above now shows it, picked.",
                "stdout": _stdout,
            }
        )
        set_written(str(_written[0]))  # the picker lists it and picks it
    except tools.PlaygroundError as e:
        set_write_result({"error": tools.md_text(e)})
    return


@app.cell
def _(get_write_result, mo):
    _r = get_write_result()
    if _r is None:
        _out = mo.md("")
    elif "error" in _r:
        _out = mo.callout(mo.md(_r["error"]), kind="danger")
    else:
        _out = mo.vstack([mo.md(_r["text"]), mo.plain_text(_r["stdout"])])
    _out
    return


@app.cell
def _(mo, model, tools):
    try:
        _report = tools.report_for(model.value) if model.value and str(model.value).endswith(".pt") else None
    except tools.PlaygroundError:
        _report = None  # the Layers section says what is wrong with it
    if _report is None:
        _out = mo.md("*The graph shows the plan of a file with a resnet8-ptq report beside it.*")
    else:
        try:
            _out = mo.Html(tools.dot_svg(tools.plan_dot(_report["ptq"]["plan"])))
        except tools.PlaygroundError as e:
            _out = mo.callout(mo.md(tools.md_text(e)), kind="warn")
    mo.vstack([mo.md("## Graph"), _out])
    return


@app.cell
def _(mo):
    sensitivity_config = mo.ui.dropdown(["w8a8", "w6a8", "w5a8", "w4a8", "w8a6", "w8a4"], value="w4a8", label="bits")
    run_sensitivity = mo.ui.run_button(label="Per-layer sensitivity and mixed precision (resnet8-analyze)")
    mo.vstack([mo.md("## Sensitivity"), mo.hstack([sensitivity_config, run_sensitivity])])
    return run_sensitivity, sensitivity_config


@app.cell
def _(alt, mo, pd, run_sensitivity, sensitivity_config, settings, tools):
    mo.stop(
        not run_sensitivity.value,
        mo.md("*Runs one simulated evaluation per layer, then the search, with the What-if settings above.*"),
    )
    try:
        with mo.status.spinner(title="resnet8-analyze: one plan per layer ..."):
            _r = tools.sensitivity(sensitivity_config.value, settings)
        _drops = pd.DataFrame(_r["sensitivity"])
        _bars = (
            alt.Chart(_drops, title=f"accuracy drop with only that layer at {sensitivity_config.value}")
            .mark_bar()
            .encode(x=alt.X("layer:N", sort=None), y=alt.Y("drop:Q", title="drop (pp)"), tooltip=["layer", "drop"])
            .properties(width=600, height=220)
        )
        _steps = pd.DataFrame(
            [
                {"k": s["k"], "accuracy": s["accuracy"], "fp32 layers": ", ".join(s["fp32_layers"])}
                for s in _r["mixed_precision"]["steps"]
            ]
        )
        _line = (
            alt.Chart(_steps, title="mixed precision: the k most sensitive layers kept in fp32")
            .mark_line(point=True)
            .encode(
                x="k:O", y=alt.Y("accuracy:Q", scale=alt.Scale(zero=False)), tooltip=["k", "accuracy", "fp32 layers"]
            )
            .properties(width=600, height=200)
        )
        _out = mo.vstack([mo.ui.altair_chart(_bars), mo.ui.altair_chart(_line)])
    except tools.PlaygroundError as e:
        _out = mo.callout(mo.md(tools.md_text(e)), kind="danger")
    _out
    return


if __name__ == "__main__":
    app.run()

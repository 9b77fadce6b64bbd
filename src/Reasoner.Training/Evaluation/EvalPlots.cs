namespace Reasoner.Training.Evaluation;

/// <summary>
/// PNGs beside eval reports: each accuracy an evaluation measured as a bar with its 95 % interval, and for a comparison
/// each paired difference B − A with its interval around zero.
/// </summary>
public static class EvalPlots
{
    /// <summary>The PNG that goes with a report saved at <paramref name="reportPath"/>: the same name, .png.</summary>
    public static string PathFor(string reportPath) => Path.ChangeExtension(reportPath, ".png");

    /// <summary>The bars a report shows: label, estimate and interval, in the order eval prints them.</summary>
    public static IReadOnlyList<(string Label, Estimate Estimate)> Bars(EvalReport report)
    {
        var (run, s) = (report.Run, report.Summary);
        var bars = new List<(string, Estimate)> { ("greedy", s.Greedy) };
        if (run.Sampled) bars.AddRange([($"pass@{run.K}", s.PassAtK), ($"maj@{run.K}", s.MajorityAtK), ("sample", s.SampleAccuracy)]);
        if (s.VerifierBestOfN is { } v) bars.Add(($"verifier best-of-{run.Samples}", v));
        if (s.OracleBestOfN is { } o) bars.Add(("gold oracle pick", o));
        if (s.Beam is { } b) bars.Add(($"beam {run.Beam}", b));
        if (s.ValueBeam is { } vb) bars.Add(("value beam", vb));
        return bars;
    }

    public static void Write(EvalReport report, string pngPath)
    {
        var bars = Bars(report);
        var plot = new ScottPlot.Plot();
        var run = report.Run;
        plot.Title($"{run.Task}{(run.Difficulty is { } d ? $" (difficulty {d})" : "")}, {report.Problems.Count} problems — {Path.GetFileName(run.Model.TrimEnd('/'))}");
        plot.YLabel("accuracy, % (95 % interval)");
        for (int i = 0; i < bars.Count; i++)
        {
            var (_, e) = bars[i];
            var bar = plot.Add.Bar(position: i, value: e.Value * 100);
            bar.Bars[0].Error = 0;
            Whisker(plot, i, e.Interval.Low * 100, e.Interval.High * 100, ScottPlot.Colors.Black);
            var label = plot.Add.Text($"{e.Value * 100:0.0}", i, e.Interval.High * 100 + 2);
            label.LabelAlignment = ScottPlot.Alignment.LowerCenter;
            label.LabelFontSize = 12;
        }
        plot.Axes.Bottom.SetTicks([.. bars.Select((_, i) => (double)i)], [.. bars.Select(b => b.Label)]);
        plot.Axes.SetLimits(-0.6, bars.Count - 0.4, 0, 105);
        Save(plot, pngPath, bars.Count);
    }

    /// <summary>B − A for every compared metric, in percentage points, with its paired 95 % interval.</summary>
    public static void WriteComparison(EvalComparison comparison, string nameA, string nameB, string pngPath)
    {
        var metrics = comparison.Metrics;
        var plot = new ScottPlot.Plot();
        plot.Title($"B − A on {comparison.Problems} problems: B {nameB}, A {nameA}");
        plot.YLabel("difference, points (95 % paired interval)");
        for (int i = 0; i < metrics.Count; i++)
        {
            var m = metrics[i];
            var marker = plot.Add.Marker(i, m.Difference * 100);
            marker.Size = 10;
            Whisker(plot, i, m.DifferenceInterval.Low * 100, m.DifferenceInterval.High * 100, marker.Color);
        }
        plot.Add.HorizontalLine(0, color: ScottPlot.Colors.Gray);
        plot.Axes.Bottom.SetTicks([.. metrics.Select((_, i) => (double)i)], [.. metrics.Select(m => m.Name)]);
        plot.Axes.SetLimitsX(-0.6, metrics.Count - 0.4);
        Save(plot, pngPath, metrics.Count);
    }

    /// <summary>An interval drawn as a vertical line with caps (Wilson and bootstrap intervals are not symmetric).</summary>
    public static void Whisker(ScottPlot.Plot plot, double x, double low, double high, ScottPlot.Color color)
    {
        foreach (var (x1, y1, x2, y2) in new[] { (x, low, x, high), (x - 0.12, low, x + 0.12, low), (x - 0.12, high, x + 0.12, high) })
        {
            var line = plot.Add.Line(x1, y1, x2, y2);
            line.Color = color;
            line.LineWidth = 1.5f;
        }
    }

    static void Save(ScottPlot.Plot plot, string pngPath, int bars)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(pngPath))!);
        plot.SavePng(pngPath, Math.Max(640, 140 * bars + 160), 480);
    }
}

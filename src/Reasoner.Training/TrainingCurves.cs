using System.Text.Json.Nodes;

namespace Reasoner.Training;

/// <summary>
/// A PNG of a run's curves beside its <c>train_log.jsonl</c>: the training and held-out loss on the left axis, every
/// logged accuracy (reward, pair, margin accuracy …; the held-out ones where there are any) on the right, by optimizer step.
/// </summary>
public static class TrainingCurves
{
    public const string FileName = "train_curves.png";

    /// <summary>Draws the log at <paramref name="logPath"/> into <paramref name="pngPath"/>; false when the log has no loss to draw.</summary>
    public static bool Write(string logPath, string pngPath, string title)
    {
        if (!File.Exists(logPath)) return false;
        var lines = TrainingLog.Read(logPath);
        var plot = new ScottPlot.Plot();
        plot.Title(title);
        plot.XLabel("optimizer step");
        plot.YLabel("loss");
        bool any = false;
        foreach (var key in new[] { "loss", "eval/loss" })
            any |= Add(plot, lines, key, rightAxis: false);
        if (!any) return false;
        var accuracies = lines.SelectMany(l => l.Select(p => p.Key)).Distinct().Where(k => k.EndsWith("accuracy", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        // Held-out accuracies, where there are any: per-step training accuracies over a few examples are mostly noise.
        if (accuracies.Any(k => k.StartsWith("eval/", StringComparison.Ordinal))) accuracies = [.. accuracies.Where(k => k.StartsWith("eval/", StringComparison.Ordinal))];
        foreach (var key in accuracies) Add(plot, lines, key, rightAxis: true);
        if (accuracies.Count > 0) plot.Axes.Right.Label.Text = "accuracy";
        plot.ShowLegend();
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(pngPath))!);
        plot.SavePng(pngPath, 960, 540);
        return true;
    }

    private static bool Add(ScottPlot.Plot plot, IReadOnlyList<JsonObject> lines, string key, bool rightAxis)
    {
        var points = lines.Where(l => l[key] is JsonValue v && v.TryGetValue<double>(out _) && l["step"] is not null)
            .Select(l => ((double)(int)l["step"]!, (double)l[key]!)).ToArray();
        if (points.Length == 0) return false;
        var scatter = plot.Add.Scatter(points.Select(p => p.Item1).ToArray(), points.Select(p => p.Item2).ToArray());
        scatter.LegendText = key;
        scatter.MarkerSize = points.Length > 60 ? 0 : 4;
        if (rightAxis) scatter.Axes.YAxis = plot.Axes.Right;
        return true;
    }
}

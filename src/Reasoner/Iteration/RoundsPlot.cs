namespace Reasoner.Cli.Iteration;

/// <summary>One iterate run's greedy accuracy by round, as its <c>iterate.json</c> records it (round 0: the starting policy).</summary>
public sealed record RoundSeries(string Name, string Trainer, IReadOnlyList<(int Round, double Greedy, double Low, double High)> Points);

/// <summary>
/// Accuracy against round for iterate runs, one line per run with its 95 % intervals, as a PNG: the plot the results table
/// stands next to.
/// </summary>
public static class RoundsPlot
{
    /// <summary>The evaluated rounds of an iterate run; an <see cref="InvalidDataException"/> when the folder holds no iterate state.</summary>
    public static RoundSeries Read(string runDirectory)
    {
        var state = IterationState.Load(runDirectory) ?? throw new InvalidDataException($"{runDirectory} holds no {IterationState.FileName}: not an iterate run");
        var points = state.Rounds
            .Where(r => r.Greedy is not null)
            .OrderBy(r => r.Round)
            .Select(r => (r.Round, r.Greedy!.Value, r.GreedyLow ?? r.Greedy.Value, r.GreedyHigh ?? r.Greedy.Value))
            .ToList();
        return new RoundSeries(Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(runDirectory))), state.Settings.Trainer, points);
    }

    public static void Write(IReadOnlyList<RoundSeries> series, string pngPath)
    {
        var plot = new ScottPlot.Plot();
        plot.Title("greedy accuracy by round of iterate (95 % intervals)");
        plot.XLabel("round (0: the starting policy)");
        plot.YLabel("greedy accuracy, %");
        var palette = new ScottPlot.Palettes.Category10();
        for (int i = 0; i < series.Count; i++)
        {
            var s = series[i];
            if (s.Points.Count == 0) continue;
            var color = palette.GetColor(i);
            // Runs side by side at each round, so that their intervals do not hide each other.
            double offset = (i - (series.Count - 1) / 2.0) * 0.06;
            var line = plot.Add.Scatter(s.Points.Select(p => p.Round + offset).ToArray(), s.Points.Select(p => p.Greedy * 100).ToArray());
            line.LegendText = $"{s.Trainer} ({s.Name})";
            line.Color = color;
            line.MarkerSize = 7;
            foreach (var p in s.Points) Training.Evaluation.EvalPlots.Whisker(plot, p.Round + offset, p.Low * 100, p.High * 100, color);
        }
        int rounds = series.SelectMany(s => s.Points).Select(p => p.Round).DefaultIfEmpty(0).Max();
        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, rounds + 1).Select(r => (double)r)], [.. Enumerable.Range(0, rounds + 1).Select(r => r.ToString())]);
        plot.Axes.SetLimitsX(-0.5, rounds + 0.5);
        plot.ShowLegend();
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(pngPath))!);
        plot.SavePng(pngPath, 900, 520);
    }
}

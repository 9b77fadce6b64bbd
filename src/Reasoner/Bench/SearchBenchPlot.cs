using Reasoner.Training.Evaluation;
using ScottPlot;

namespace Reasoner.Cli.Bench;

/// <summary>
/// <c>bench search</c>'s figures as a PNG: on the left, trees/min of every configuration (each algorithm's baseline first); on the
/// right, the share of problems whose tree holds a correct path, beside greedy accuracy on the same problems, with 95 % intervals.
/// </summary>
static class SearchBenchPlot
{
    public static void Write(IReadOnlyList<SearchBenchResult> results, int greedyCorrect, int problems, string task, string pngPath)
    {
        var multiplot = new ScottPlot.Multiplot();
        multiplot.AddPlots(2);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();
        var (speed, yield) = (multiplot.GetPlot(0), multiplot.GetPlot(1));

        speed.Title($"throughput, {problems} {task} problems");
        speed.YLabel("trees / min");
        var labels = new List<string>();
        for (int i = 0; i < results.Count; i++)
        {
            var r = results[i];
            speed.Add.Bar(position: i, value: r.TreesPerMinute);
            var text = speed.Add.Text(r.TreesPerMinute.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture), i, r.TreesPerMinute);
            text.LabelAlignment = ScottPlot.Alignment.LowerCenter;
            labels.Add($"{r.Case.Algorithm}\n{r.Case.ShortLabel}");
        }
        speed.Axes.Bottom.SetTicks([.. labels.Select((_, i) => (double)i)], [.. labels]);
        speed.Axes.SetLimitsY(0, Math.Max(1, results.Max(r => r.TreesPerMinute)) * 1.15);

        yield.Title("search yield: correct path in tree vs greedy");
        yield.YLabel("% of problems (95 % interval)");
        var shares = new List<(string Label, int Right)> { ("greedy", greedyCorrect) };
        foreach (var group in results.GroupBy(r => r.Case.Algorithm))
            shares.Add((group.Key, group.First(x => x.Case.Engine != SearchBenchEngine.OneRowPerCall).WithCorrectPath));
        for (int i = 0; i < shares.Count; i++)
        {
            double share = problems == 0 ? 0 : (double)shares[i].Right / problems;
            var interval = Core.Statistics.Intervals.Wilson(shares[i].Right, problems);
            yield.Add.Bar(position: i, value: share * 100);
            EvalPlots.Whisker(yield, i, interval.Low * 100, interval.High * 100, ScottPlot.Colors.Black);
        }
        yield.Axes.Bottom.SetTicks([.. shares.Select((_, i) => (double)i)], [.. shares.Select(s => s.Label)]);
        yield.Axes.SetLimitsY(0, 105);

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(pngPath))!);
        multiplot.SavePng(pngPath, 1200, 480);
    }
}

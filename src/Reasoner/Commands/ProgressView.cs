using System.Globalization;
using Microsoft.Extensions.Logging;
using Reasoner.Generation;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Reasoner.Cli.Commands;

/// <summary>How <c>generate</c> shows a running pipeline: a live table on a terminal, periodic log lines otherwise, a summary at the end.</summary>
static class ProgressView
{
    private static readonly TimeSpan LiveRefresh = TimeSpan.FromMilliseconds(500);

    public static async Task FollowAsync(CliContext context, GenerationPipeline pipeline, Task running, TimeSpan logInterval)
    {
        if (context.Console.Profile.Capabilities.Interactive)
        {
            await context.Console.Live(Live(pipeline)).AutoClear(true).StartAsync(async live =>
            {
                while (!running.IsCompleted)
                {
                    await Task.WhenAny(running, Task.Delay(LiveRefresh));
                    live.UpdateTarget(Live(pipeline));
                }
            });
            return;
        }
        var logger = context.Loggers.CreateLogger("Reasoner.Generate");
        while (!running.IsCompleted)
        {
            if (await Task.WhenAny(running, Task.Delay(logInterval)) == running) break;
            var p = pipeline.Progress.Snapshot();
            logger.LogInformation("progress: {Done}{Of} searched ({Failed} failed, {Skipped} skipped), {TreesPerMinute} trees/min, {NodesPerSecond} nodes/s, correct path {Share}, ETA {Eta}",
                p.Searched, p.Expected is { } e ? $"/{e - p.Skipped}" : "", p.Failed, p.Skipped, Number(p.TreesPerMinute), Number(p.NodesPerSecond),
                Share(p.CorrectPathShare), Duration(p.Eta));
        }
    }

    public static void PrintSummary(IAnsiConsole console, ProgressSnapshot p, string runDirectory)
    {
        var table = new Table().Title("generation").HideHeaders().AddColumns("", "");
        table.AddRow("problems searched", Count(p.Searched));
        table.AddRow("  with a correct path", $"{Count(p.CorrectPaths)} ({Share(p.CorrectPathShare)} of completed)");
        table.AddRow("  failed (stored as failed trees)", p.Failed > 0 ? $"[red]{Count(p.Failed)}[/]" : "0");
        table.AddRow("skipped (already stored)", Count(p.Skipped));
        if (p.Abandoned > 0) table.AddRow("abandoned at the stop", Count(p.Abandoned));
        if (p.InvalidLines > 0) table.AddRow("malformed lines skipped", $"[yellow]{Count(p.InvalidLines)}[/]");
        table.AddRow("nodes", Count(p.Nodes));
        table.AddRow("elapsed", Duration(p.Elapsed));
        table.AddRow("throughput", $"{Number(p.TreesPerMinute)} trees/min, {Number(p.NodesPerSecond)} nodes/s");
        table.AddRow("run", Markup.Escape(runDirectory));
        console.Write(table);
    }

    private static IRenderable Live(GenerationPipeline pipeline)
    {
        var p = pipeline.Progress.Snapshot();
        var todo = p.Expected is { } e ? e - p.Skipped : (long?)null;
        // Short headers: the table fits an 80-column terminal. "correct": completed trees with a correct path;
        // "queues": problems waiting for a worker, trees waiting for the writer.
        var table = new Table().AddColumns("searched", "failed", "skipped", "trees/min", "nodes/s", "correct", "queues", "ETA");
        table.AddRow(todo is { } t ? $"{p.Searched}/{t}" : Count(p.Searched), Count(p.Failed), Count(p.Skipped), Number(p.TreesPerMinute),
            Number(p.NodesPerSecond), Share(p.CorrectPathShare), $"{pipeline.ProblemQueueDepth}, {pipeline.TreeQueueDepth}", Duration(p.Eta));
        return table;
    }

    private static string Count(long n) => n.ToString(CultureInfo.InvariantCulture);

    private static string Number(double x) => x.ToString(x < 10 ? "0.00" : "0.0", CultureInfo.InvariantCulture);

    private static string Share(double? share) => share is { } s ? (s * 100).ToString("0", CultureInfo.InvariantCulture) + "%" : "-";

    private static string Duration(TimeSpan? t) => t is { } d ? d.ToString(d.TotalHours >= 1 ? @"h\:mm\:ss" : @"m\:ss", CultureInfo.InvariantCulture) : "-";
}

using System.CommandLine;
using Microsoft.Extensions.Logging;
using Reasoner.Cli.Hosting;
using Reasoner.Cli.Serving;
using Reasoner.Cli.Viewing;
using Reasoner.Models;
using Spectre.Console;

namespace Reasoner.Cli.Commands;

/// <summary><c>view RUN</c>: the run's trees in a browser, served on loopback until Ctrl-C or SIGTERM.</summary>
static class ViewCommand
{
    public static Command Create(CliContext context)
    {
        var run = new Argument<string>("run") { Description = "Run folder, or a run name under the runs folder (RunsDir)." };
        var host = new Option<string>("--host") { Description = "IP address to listen on (or localhost). The viewer has no authentication: keep it on loopback.", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port", "-p") { Description = "Port to listen on; 0 picks a free one.", DefaultValueFactory = _ => 8050 };
        var models = new Option<string[]>("--model", "-m")
        {
            Description = "A trained model folder (repeatable) whose view of the steps the tree page computes on request and caches beside the run: " +
                          "β·log π/π_ref for a train dpo|tpo|trpa|onpo|oreo policy against the model it started from, the scores of a train plv verifier or of OREO's value head.",
            AllowMultipleArgumentsPerToken = false,
        };
        var screenshot = new Option<string?>("--screenshot") { Description = "Instead of serving until stopped, save a PNG of the page (the run page, or with --tree a tree page) from headless Chromium and exit." };
        var tree = new Option<int?>("--tree") { Description = "With --screenshot: the tree at this position in the run page's table (0-based)." };
        var colour = new Option<string?>("--colour") { Description = "With --screenshot --tree: colour nodes by this value (visits, q, prior, selfEval, mc, verifier, stepValue, outcome, gold), as the page's ?colour= does." };
        var node = new Option<int?>("--node") { Description = "With --screenshot --tree: show this node in the side panel, as the page's ?node= does." };
        var size = new Option<string>("--size") { Description = "With --screenshot: the browser window, WIDTHxHEIGHT.", DefaultValueFactory = _ => "1400x900" };
        var command = new Command("view",
            "Open a run in the browser: a page listing every tree (filter, sort), and for each tree a graph to zoom, collapse and colour by any score, " +
            "with the pairs train dpo takes, the best path, the gold step labels of built-in tasks, and the search's settings and timings. " +
            "Pages are served from the executable on 127.0.0.1; nothing outside the run folder is served.")
        {
            run, host, port, models, screenshot, tree, colour, node, size,
        };
        command.SetAction(async (parse, stop) =>
        {
            var runDir = RunLocation.Resolve(parse.GetValue(run)!, context.Settings);
            var modelFolders = parse.GetValue(models) ?? [];
            foreach (var m in modelFolders)
                if (!Directory.Exists(m)) throw new UserError($"--model {m}: folder not found");
            var chosenHost = parse.GetValue(host)!;
            await using var server = await RunViewerServer.StartAsync(runDir, PromptFolder.Open(context.Settings), modelFolders, chosenHost, parse.GetValue(port),
                TorchRuntime.ParseDevice(context.Settings.Device), stop);
            if (parse.GetValue(screenshot) is { } png)
            {
                var (width, height) = ParseSize(parse.GetValue(size)!);
                if (parse.GetValue(tree) is { } wanted)
                {
                    using var http = new HttpClient();
                    var found = await http.GetAsync(new Uri(server.BaseUrl, $"api/trees/{wanted}"), stop);
                    if (!found.IsSuccessStatusCode) throw new UserError($"--tree {wanted}: {runDir} has no tree at that position (see view's run page or show)");
                }
                await using var chromium = await HeadlessChromium.LaunchAsync();
                var query = string.Join("&", new[] { parse.GetValue(colour) is { } c ? $"colour={Uri.EscapeDataString(c)}" : null, parse.GetValue(node) is { } n ? $"node={n}" : null }.OfType<string>());
                var path = parse.GetValue(tree) is { } index ? $"tree/{index}" + (query.Length > 0 ? "?" + query : "") : "";
                var page = await chromium.OpenAsync(new Uri(server.BaseUrl, path), width, height);
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(png))!);
                await page.ScreenshotAsync(new Microsoft.Playwright.PageScreenshotOptions { Path = png });
                context.Console.WriteLine($"screenshot → {png}");
                return 0;
            }
            var log = context.Loggers.CreateLogger("view");
            if (!ListenAddress.IsLoopback(chosenHost))
                log.LogWarning("listening on {Host}: anyone who reaches this address can read the run", chosenHost);
            context.Console.WriteLine($"viewing {runDir} at {server.BaseUrl}");
            context.Console.WriteLine("Ctrl-C to stop");
            await server.WaitForShutdownAsync(stop);
            return 0;
        });
        return command;
    }

    static (int Width, int Height) ParseSize(string size)
    {
        var parts = size.Split('x');
        return parts.Length == 2 && int.TryParse(parts[0], out var w) && int.TryParse(parts[1], out var h) && w > 0 && h > 0
            ? (w, h)
            : throw new UserError($"--size must be WIDTHxHEIGHT, like 1400x900, not '{size}'");
    }
}

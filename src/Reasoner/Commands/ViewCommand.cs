using System.CommandLine;
using Microsoft.Extensions.Logging;
using Reasoner.Cli.Hosting;
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
        var command = new Command("view",
            "Open a run in the browser: a page listing every tree (filter, sort), and for each tree a graph to zoom, collapse and colour by any score, " +
            "with the pairs train dpo takes, the best path, the gold step labels of built-in tasks, and the search's settings and timings. " +
            "Pages are served from the executable on 127.0.0.1; nothing outside the run folder is served.")
        {
            run, host, port, models,
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
            var log = context.Loggers.CreateLogger("view");
            if (chosenHost is not ("127.0.0.1" or "localhost" or "::1"))
                log.LogWarning("listening on {Host}: anyone who reaches this address can read the run", chosenHost);
            context.Console.WriteLine($"viewing {runDir} at {server.BaseUrl}");
            context.Console.WriteLine("Ctrl-C to stop");
            await server.WaitForShutdownAsync(stop);
            return 0;
        });
        return command;
    }
}

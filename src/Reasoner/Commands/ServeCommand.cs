using System.CommandLine;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Reasoner.Generation;
using Reasoner.Cli.Hosting;
using Reasoner.Cli.Serving;
using Reasoner.Cli.Viewing;

namespace Reasoner.Cli.Commands;

/// <summary>
/// <c>serve</c>: the generator pipeline as a hosted service that keeps generating from its sources until stopped, with
/// GET /health, GET /status and the run viewer (<c>/runs/</c>) on a loopback port. SIGTERM or Ctrl-C stops it gracefully (exit 0); a restart resumes.
/// </summary>
static class ServeCommand
{
    public static Command Create(CliContext context)
    {
        var s = context.Settings.Serve;
        var sources = new Option<string[]>("--source") { Description = "A problem source (repeatable): arith, logic (endless train streams), arith:test, logic:test, a data-set family (its file under DataDir), file:PATH, watch:FOLDER, redis://HOST:PORT/NAME (a work queue filled by enqueue, shared by many workers).", DefaultValueFactory = _ => [.. EffectiveSources(s.Sources)], AllowMultipleArgumentsPerToken = false };
        var output = new Option<string>("--out", "-o") { Description = "Run folder: a name under RunsDir, or a path.", DefaultValueFactory = _ => s.Out };
        var port = new Option<int>("--port") { Description = "Loopback port of /health, /status and the run viewer (/runs/); 0 picks a free port (logged).", DefaultValueFactory = _ => s.Port };
        var exitWhenDone = new Option<bool>("--exit-when-done") { Description = "Stop once every source is exhausted (finite sources), instead of waiting to be stopped.", DefaultValueFactory = _ => s.ExitWhenDone };
        var shared = new GenerationOptions(context.Settings);
        var command = new Command("serve", "Run the generator as a service until stopped (SIGTERM or Ctrl-C: graceful stop, exit 0), with GET /health, GET /status and the run viewer (/runs/) on 127.0.0.1. A restart resumes.")
        {
            sources, output, port, exitWhenDone,
        };
        shared.AddTo(command);
        command.SetAction(async (parse, cancel) =>
        {
            var generate = shared.Apply(parse, context.Settings.Generate);
            var seed = shared.Seed(parse);
            var runDirectory = RunLocation.ForOutput(parse.GetValue(output)!, context.Settings);
            using var run = GenerationRun.Create(runDirectory, generate, context.Settings.Store, PromptFolder.Open(context.Settings), seed, context.Settings.Device, context.Loggers);
            var sourceContext = new ProblemSourceSpecs.Context(runDirectory, DataDirectory.Resolve(context.Settings), seed, generate.Difficulty,
                run.Pipeline.Options.Shard, TimeSpan.FromSeconds(s.RescanSeconds), context.Loggers.CreateLogger("Reasoner.Sources"), run.Progress)
            {
                Queue = GenerationOptions.QueueOptions(generate, endWhenDrained: parse.GetValue(exitWhenDone)),
            };
            var state = new ServeState(run, [.. parse.GetValue(sources)!.Select(spec => ProblemSourceSpecs.Create(spec, sourceContext))]);
            var grace = run.Pipeline.Options.GracePeriod;

            // The command takes SIGTERM and Ctrl-C itself: the generator drains first, with /health answering 503 meanwhile, and
            // then stops the host; a second signal is left to the runtime, which ends the process at once.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            using var signals = new StopSignals(stop);
            using var viewer = new RunViewer(runDirectory, PromptFolder.Open(context.Settings));
            await using var app = BuildApp(context, state, viewer, parse.GetValue(port), parse.GetValue(exitWhenDone), grace + TimeSpan.FromSeconds(s.FlushMarginSeconds), stop.Token);
            var logger = context.Loggers.CreateLogger("Reasoner.Serve");
            await app.StartAsync(cancel);
            logger.LogInformation("serving /health, /status and the run viewer at {Url}/runs/; generating with {Algorithm} on {Model}, {Workers} workers, into {Run} from {Sources}",
                app.Urls.First(), run.Search.Name, run.ModelLabel, generate.Workers, runDirectory, string.Join(", ", state.Sources.Select(x => x.Name)));
            await app.WaitForShutdownAsync(cancel);
            // A queue acknowledges the entries whose trees the last flush stored.
            foreach (var source in state.Sources.OfType<IAsyncDisposable>()) await source.DisposeAsync();
            return state.Stage == ServeStage.Failed ? 1 : 0;
        });
        return command;
    }

    private static IReadOnlyList<string> EffectiveSources(IReadOnlyList<string> configured) =>
        configured.Count > 0 ? configured : [ProblemSourceSpecs.DefaultSpec];

    private static WebApplication BuildApp(CliContext context, ServeState state, RunViewer viewer, int port, bool exitWhenDone, TimeSpan shutdownTimeout, CancellationToken stop)
    {
        // An empty builder: settings were already read by the main host (appsettings < REASONER_* < options); logs go to its console logger.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
        builder.Services.AddRoutingCore();
        builder.Services.AddSingleton(context.Loggers);
        builder.Services.AddSingleton(state);
        builder.Services.AddHostedService(sp => new GenerationService(state, sp.GetRequiredService<IHostApplicationLifetime>(),
            context.Loggers.CreateLogger<GenerationService>(), exitWhenDone, stop));
        // Not the console lifetime, which would stop the host (and its endpoints) at the first signal, before the generator drains.
        builder.Services.AddSingleton<IHostLifetime, CommandLifetime>();
        // The host waits this long for the generator to stop: the grace period for in-flight searches, then draining and flushing.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = shutdownTimeout);

        var app = builder.Build();
        app.MapGet("/health", (ServeState s) => s.IsHealthy
            ? Results.Text("ok")
            : Results.Text(s.Stage.ToString().ToLowerInvariant(), statusCode: StatusCodes.Status503ServiceUnavailable));
        app.MapGet("/status", (ServeState s) => Results.Json(s.Status()));
        // The trees this service writes, in the browser as view RUN shows them.
        viewer.Map(app, "/runs");
        return app;
    }
}

/// <summary>A host lifetime that leaves signals to the command: the host stops when the generator stops it.</summary>
sealed class CommandLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

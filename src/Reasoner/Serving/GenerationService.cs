using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Reasoner.Generation;

namespace Reasoner.Cli.Serving;

/// <summary>
/// The generator pipeline as a hosted service: it runs from host start until <paramref name="stopRequested"/> fires
/// (SIGTERM, Ctrl-C) or the host stops, then stops taking problems, lets in-flight searches finish within the grace period,
/// stores and flushes what finished, and only then stops the host, so that its endpoints answer (503, "stopping") for as
/// long as the drain takes. With <c>exitWhenDone</c> it stops the host itself once finite sources are exhausted; a store
/// failure stops the host.
/// </summary>
public sealed class GenerationService(ServeState state, IHostApplicationLifetime lifetime, ILogger<GenerationService> logger, bool exitWhenDone,
    CancellationToken stopRequested = default)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, stopRequested);
        using var stopping = stop.Token.Register(() =>
        {
            state.Stage = ServeStage.Stopping;
            logger.LogInformation("stopping: no new problems; in-flight searches get {Grace} s", state.Run.Pipeline.Options.GracePeriod.TotalSeconds);
        });
        state.Stage = ServeStage.Running;
        PipelineResult result;
        try
        {
            result = await state.Run.Pipeline.RunAsync(state.Sources, stop.Token);
        }
        catch (Exception e)
        {
            logger.LogError(e, "the generator failed");
            state.Stage = ServeStage.Failed;
            await StopHostAsync(stoppingToken);
            return;
        }
        var p = state.Run.Progress.Snapshot();
        switch (result.End)
        {
            case PipelineEnd.StoreFailed:
                state.Stage = ServeStage.Failed;
                await StopHostAsync(stoppingToken);
                break;
            case PipelineEnd.Stopped:
                state.Stage = ServeStage.Stopped;
                logger.LogInformation("stopped: {Done} trees stored ({Abandoned} searches abandoned); a restart resumes", p.Searched, p.Abandoned);
                await StopHostAsync(stoppingToken);
                break;
            default:
                state.Stage = ServeStage.Finished;
                logger.LogInformation("every source is exhausted: {Done} trees stored, {Skipped} problems skipped as already stored", p.Searched, p.Skipped);
                if (exitWhenDone) await StopHostAsync(stoppingToken);
                break;
        }
    }

    /// <summary>
    /// Stops the host once it has started: sources that run out at once would otherwise stop it from inside its own
    /// start, which fails the start. Nothing to do when it is stopping already.
    /// </summary>
    private async Task StopHostAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        try
        {
            await started.Task.WaitAsync(stoppingToken);
            lifetime.StopApplication();
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}

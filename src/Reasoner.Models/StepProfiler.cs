using System.Diagnostics;

namespace Reasoner.Models;

/// <summary>
/// Wall time of the engine's forwards by phase, for <c>bench generate --profile</c> and <c>bench search --profile</c>.
/// Off unless started; a phase costs one flag check then. While on, only forwards that feed no prompt tokens (decoding
/// steps) are recorded, so a request's prefill does not blur the per-token figures, unless started for every forward. On the CPU every libtorch operation has finished when
/// it returns, so wall time around a call is that call's cost. One writer at a time (the engine's loop thread).
/// </summary>
public static class StepProfiler
{
    private static readonly object Gate = new();
    private static readonly Dictionary<string, long> Ticks = [];
    private static volatile bool enabled;
    private static volatile bool everyForward;
    [ThreadStatic] private static bool recording; // per thread: each engine loop (EngineReplicas) records its own forwards
    private static long steps;

    /// <summary>Clears what was recorded and starts recording decoding forwards, or every forward (prefills and scoring too).</summary>
    public static void Start(bool everyForward = false)
    {
        lock (Gate)
        {
            Ticks.Clear();
            steps = 0;
            StepProfiler.everyForward = everyForward;
            enabled = true;
        }
    }

    /// <summary>Stops recording and returns the decoding forwards recorded and the time of each phase over them.</summary>
    public static (long Steps, IReadOnlyDictionary<string, TimeSpan> Phases) Stop()
    {
        lock (Gate)
        {
            enabled = false;
            return (steps, Ticks.ToDictionary(p => p.Key, p => Stopwatch.GetElapsedTime(0, p.Value)));
        }
    }

    /// <summary>Marks a forward: recorded when the profiler is on and the forward only decodes (or every forward is recorded). Dispose at its end.</summary>
    public static Span Forward(bool decodesOnly)
    {
        if (!enabled || !(decodesOnly || everyForward)) return default;
        recording = true;
        lock (Gate) steps++;
        return new Span(WholeForward, Stopwatch.GetTimestamp(), endsForward: true);
    }

    /// <summary>Times a phase of the current forward (nothing when not recording). Dispose at the phase's end.</summary>
    public static Span Measure(string phase) => recording ? new Span(phase, Stopwatch.GetTimestamp(), endsForward: false) : default;

    /// <summary>The name under which a recorded forward's whole time is kept.</summary>
    public const string WholeForward = "forward total";

    public readonly struct Span(string? phase, long started, bool endsForward) : IDisposable
    {
        public void Dispose()
        {
            if (phase is null) return;
            long elapsed = Stopwatch.GetTimestamp() - started;
            lock (Gate) Ticks[phase] = Ticks.GetValueOrDefault(phase) + elapsed;
            if (endsForward) recording = false;
        }
    }
}

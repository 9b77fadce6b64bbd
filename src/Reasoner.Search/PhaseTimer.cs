using System.Diagnostics;

namespace Reasoner.Search;

/// <summary>Wall-clock milliseconds spent per search phase, for <see cref="Core.Trees.SearchTimings.PhaseMs"/>.</summary>
internal sealed class PhaseTimer
{
    public const string Propose = "propose";
    public const string Score = "score";
    public const string Select = "select";

    private readonly Dictionary<string, double> _ms = new() { [Propose] = 0, [Score] = 0, [Select] = 0 };

    public IReadOnlyDictionary<string, double> Totals => _ms;

    /// <summary>Adds the time until the returned scope is disposed to <paramref name="phase"/>.</summary>
    public Scope Measure(string phase) => new(this, phase, Stopwatch.GetTimestamp());

    public readonly struct Scope(PhaseTimer timer, string phase, long started) : IDisposable
    {
        public void Dispose() => timer._ms[phase] = timer._ms.GetValueOrDefault(phase) + Stopwatch.GetElapsedTime(started).TotalMilliseconds;
    }
}

using System.Collections.Concurrent;
using Reasoner.Core.Problems;

namespace Reasoner.Generation;

/// <summary>The problems the workers are searching right now (the reference backend reads them to know what it is asked about).</summary>
public sealed class ProblemsInFlight
{
    private readonly ConcurrentDictionary<string, Problem> _problems = new(StringComparer.Ordinal);

    public int Count => _problems.Count;

    public IEnumerable<Problem> Problems => _problems.Values;

    internal void Add(Problem problem) => _problems[problem.Id] = problem;

    internal void Remove(Problem problem) => _problems.TryRemove(problem.Id, out _);
}

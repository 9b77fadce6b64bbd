using System.Globalization;
using Reasoner.Core.Tasks;

namespace Reasoner.Generation;

/// <summary>
/// Shard <see cref="Index"/> of <see cref="Count"/>: the problems whose id hashes (FNV-1a, the same on every machine,
/// unlike <see cref="string.GetHashCode()"/>) to <see cref="Index"/> mod <see cref="Count"/>. The shards of one count
/// partition any problem list, so n processes given the same sources and run folder search each problem once.
/// </summary>
public readonly record struct Shard(int Index, int Count)
{
    public static Shard All { get; } = new(0, 1);

    public bool IsAll => Count == 1;

    /// <summary>Segment writer id of this shard, so a run folder shows which shard wrote what.</summary>
    public string? WriterId => IsAll ? null : $"shard-{Index}-of-{Count}";

    public bool Contains(string problemId) => IsAll || StableHash.Fnv1a64(problemId) % (ulong)Count == (ulong)Index;

    /// <summary>"i/n" with 0 ≤ i &lt; n; empty or null is <see cref="All"/>.</summary>
    public static Shard Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return All;
        var parts = text.Split('/');
        if (parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var index)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var count)
            && count >= 1 && index < count)
            return new Shard(index, count);
        throw new ArgumentException($"shard '{text}': expected i/n with 0 <= i < n, e.g. 0/4");
    }

    public override string ToString() => $"{Index}/{Count}";
}

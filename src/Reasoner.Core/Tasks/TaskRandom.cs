namespace Reasoner.Core.Tasks;

/// <summary>
/// SplitMix64. The generators own their random numbers rather than use <see cref="Random"/>, whose seeded
/// sequence .NET does not promise to keep across versions; a seed must give the same problems everywhere.
/// </summary>
internal sealed class TaskRandom(int seed)
{
    private ulong _state = unchecked((ulong)seed);

    public ulong NextUInt64()
    {
        var z = _state = unchecked(_state + 0x9E3779B97F4A7C15);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EB);
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [min, max], both inclusive.</summary>
    public int Between(int min, int max)
    {
        if (max < min) throw new ArgumentOutOfRangeException(nameof(max), $"empty range [{min}, {max}]");
        // The high word of a 64x64-bit product maps the draw onto the range without modulo bias worth noticing.
        return min + (int)Math.BigMul(NextUInt64(), (ulong)(max - min + 1), out _);
    }

    public bool Chance(double probability) => (NextUInt64() >> 11) * (1.0 / (1UL << 53)) < probability;

    public T Pick<T>(IReadOnlyList<T> items) => items[Between(0, items.Count - 1)];

    public void Shuffle<T>(IList<T> items)
    {
        for (var i = items.Count - 1; i > 0; i--)
        {
            var j = Between(0, i);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}

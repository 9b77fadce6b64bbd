using System.Text;

namespace Reasoner.Core.Tasks;

/// <summary>
/// 64-bit FNV-1a over UTF-8. Unlike <see cref="string.GetHashCode()"/>, which is randomised per process,
/// it is the same on every run and machine, so it can decide splits and ids.
/// </summary>
public static class StableHash
{
    private const ulong OffsetBasis = 14695981039346656037;
    private const ulong Prime = 1099511628211;

    public static ulong Fnv1a64(string text)
    {
        var hash = OffsetBasis;
        foreach (var b in Encoding.UTF8.GetBytes(text))
            hash = unchecked((hash ^ b) * Prime);
        return hash;
    }
}

using Reasoner.Core.Trees;

namespace Reasoner.Core.Storage;

/// <summary>
/// Streams the trees of a store folder. Damaged data never throws and never yields a tree: each damaged
/// stretch is passed to <c>onDamage</c> and reading goes on with the next intact record.
/// </summary>
public static class TreeStoreReader
{
    public const string SegmentExtension = ".mpk";

    /// <summary>
    /// The segment files, in ordinal name order: per writer that is the order written (names carry the
    /// writer's start time, then its id, then a sequence number), and across writers it is stable.
    /// </summary>
    public static IReadOnlyList<string> Segments(string treesDirectory) =>
        Directory.Exists(treesDirectory)
            ? [.. Directory.EnumerateFiles(treesDirectory, "*" + SegmentExtension).Order(StringComparer.Ordinal)]
            : [];

    public static IEnumerable<PreferenceTree> ReadAll(string treesDirectory, Action<StoreDamage> onDamage) =>
        Segments(treesDirectory).SelectMany(segment => ReadSegment(segment, onDamage));

    public static IEnumerable<PreferenceTree> ReadSegment(string segmentPath, Action<StoreDamage> onDamage)
    {
        foreach (var (offset, payload) in SegmentScanner.IntactPayloads(segmentPath, onDamage))
        {
            if (TreeSerializer.TryDeserialize(payload, out var tree, out var failure))
                yield return tree;
            else
                onDamage(new StoreDamage(segmentPath, offset, failure));
        }
    }
}

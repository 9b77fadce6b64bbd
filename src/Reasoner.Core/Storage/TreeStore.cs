using Reasoner.Core.Trees;

namespace Reasoner.Core.Storage;

/// <summary>
/// The trees of one run, under <c>&lt;runDir&gt;/trees/</c>. Appends go through one writer that this store
/// opens on first use; reads see every segment in the folder, other writers' included.
/// </summary>
public sealed class TreeStore : IDisposable
{
    public const string TreesFolderName = "trees";

    private readonly TreeStoreWriterOptions _writerOptions;
    private TreeStoreWriter? _writer;
    private bool _disposed;

    private TreeStore(string treesDirectory, TreeStoreWriterOptions writerOptions)
    {
        TreesDirectory = treesDirectory;
        _writerOptions = writerOptions;
    }

    public static TreeStore Open(string runDirectory, TreeStoreWriterOptions? writerOptions = null) =>
        new(Path.Combine(runDirectory, TreesFolderName), writerOptions ?? new TreeStoreWriterOptions());

    public string TreesDirectory { get; }

    public void Append(PreferenceTree tree) => Append([tree]);

    /// <summary>Appends trees as one group that shares one flush (<see cref="TreeStoreWriter.Append(IReadOnlyList{PreferenceTree})"/>).</summary>
    public void Append(IReadOnlyList<PreferenceTree> trees)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        (_writer ??= new TreeStoreWriter(TreesDirectory, _writerOptions)).Append(trees);
    }

    public void Flush(bool flushToDisk = false) => _writer?.Flush(flushToDisk);

    /// <summary>
    /// Every intact tree in the folder, in segment order; this store's own appends are flushed first so that they are
    /// included. A problem searched twice to completion (a work queue delivers at least once: a worker that died after
    /// storing, before acknowledging) keeps its first completed tree only, so duplicates never reach the data. Failed
    /// trees are all kept: they record attempts.
    /// </summary>
    public IEnumerable<PreferenceTree> ReadAll(Action<StoreDamage> onDamage)
    {
        _writer?.Flush();
        var completed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var tree in TreeStoreReader.ReadAll(TreesDirectory, onDamage))
        {
            if (tree.Status == TreeStatus.Completed && !completed.Add(tree.Problem.Id)) continue;
            yield return tree;
        }
    }

    /// <summary>
    /// Problem ids that need no new search, for resuming a run. By default only completed trees count,
    /// so that problems whose search failed are tried again.
    /// </summary>
    public IReadOnlySet<string> StoredProblemIds(Action<StoreDamage> onDamage, bool includeFailed = false) =>
        ReadAll(onDamage)
            .Where(t => includeFailed || t.Status == TreeStatus.Completed)
            .Select(t => t.Problem.Id)
            .ToHashSet(StringComparer.Ordinal);

    public void Dispose()
    {
        _writer?.Dispose();
        _disposed = true;
    }
}

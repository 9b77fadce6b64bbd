using Reasoner.Core.Storage;
using Reasoner.Core.Trees;

namespace Reasoner.Tests.Storage;

public class TreeStoreTests
{
    [Fact]
    public void AppendsLandUnderTheRunsTreesFolderAndReadBack()
    {
        using var folder = new TempFolder();
        var trees = Enumerable.Range(1, 5).Select(i => SampleTrees.Random(i)).ToList();
        using var store = TreeStore.Open(folder.Path, new TreeStoreWriterOptions { Flush = new FlushPolicy { EveryRecords = 100 } });
        Assert.Equal(Path.Combine(folder.Path, "trees"), store.TreesDirectory);
        foreach (var tree in trees) store.Append(tree);

        var damage = new List<StoreDamage>();
        Assert.Equal(trees.Select(StoredBytes.Key), store.ReadAll(damage.Add).Select(StoredBytes.Key));
        Assert.Empty(damage);
    }

    [Fact]
    public void OpeningAStoreCreatesNoSegmentUntilTheFirstAppend()
    {
        using var folder = new TempFolder();
        using var store = TreeStore.Open(folder.Path);
        Assert.Empty(store.ReadAll(_ => { }));
        Assert.Empty(TreeStoreReader.Segments(store.TreesDirectory));
    }

    [Fact]
    public void ResumeSkipsCompletedProblemsAndRetriesFailedOnes()
    {
        using var folder = new TempFolder();
        using (var store = TreeStore.Open(folder.Path))
        {
            store.Append(SampleTrees.Empty("p1"));
            store.Append(SampleTrees.Empty("p2", TreeStatus.Failed));
        }
        using (var resumed = TreeStore.Open(folder.Path))
        {
            var damage = new List<StoreDamage>();
            Assert.Equal(["p1"], resumed.StoredProblemIds(damage.Add));
            resumed.Append(SampleTrees.Empty("p2"));
            resumed.Append(SampleTrees.Empty("p3", TreeStatus.Failed));
            Assert.Equal(["p1", "p2"], resumed.StoredProblemIds(damage.Add).Order());
            Assert.Equal(["p1", "p2", "p3"], resumed.StoredProblemIds(damage.Add, includeFailed: true).Order());
            Assert.Empty(damage);
        }
        Assert.Equal(2, TreeStoreReader.Segments(Path.Combine(folder.Path, "trees")).Count);
    }

    [Fact]
    public void ResumeReportsDamageAndCountsOnlyIntactTrees()
    {
        using var folder = new TempFolder();
        string segment;
        using (var store = TreeStore.Open(folder.Path))
        {
            store.Append(SampleTrees.Empty("p1"));
            store.Append(SampleTrees.Empty("p2"));
            segment = TreeStoreReader.Segments(store.TreesDirectory).Single();
        }
        // A crash in the middle of writing p2: its record is cut short.
        using (var file = new FileStream(segment, FileMode.Open))
            file.SetLength(file.Length - 3);

        using var reopened = TreeStore.Open(folder.Path);
        var damage = new List<StoreDamage>();
        Assert.Equal(["p1"], reopened.StoredProblemIds(damage.Add));
        Assert.Single(damage);
    }

    [Fact]
    public void ADisposedStoreRefusesAppends()
    {
        using var folder = new TempFolder();
        var store = TreeStore.Open(folder.Path);
        store.Dispose();
        Assert.Throws<ObjectDisposedException>(() => store.Append(SampleTrees.Empty()));
    }
}

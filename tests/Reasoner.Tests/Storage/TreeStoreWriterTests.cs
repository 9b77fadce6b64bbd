using Reasoner.Core.Storage;
using Reasoner.Core.Trees;

namespace Reasoner.Tests.Storage;

public class TreeStoreWriterTests
{
    private static readonly DateTimeOffset Start = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static List<PreferenceTree> Trees(int first, int count) =>
        [.. Enumerable.Range(first, count).Select(i => SampleTrees.Random(i))];

    private static List<string> ReadKeys(string directory)
    {
        var damage = new List<StoreDamage>();
        var keys = TreeStoreReader.ReadAll(directory, damage.Add).Select(StoredBytes.Key).ToList();
        Assert.Empty(damage);
        return keys;
    }

    [Fact]
    public void SegmentsAreNamedByStartTimeWriterAndSequence()
    {
        using var folder = new TempFolder();
        using var writer = new TreeStoreWriter(folder.Path, new TreeStoreWriterOptions { WriterId = "shard-3_of_8", Clock = new ManualClock(Start) });
        Assert.Equal("seg-20250301T120000000Z-shard-3_of_8-000000.mpk", Path.GetFileName(Assert.Single(writer.SegmentPaths)));
        Assert.True(File.Exists(writer.SegmentPaths[0]));
    }

    [Fact]
    public void WithoutAnIdAWriterPicksARandomOne()
    {
        using var folder = new TempFolder();
        using var first = new TreeStoreWriter(folder.Path);
        using var second = new TreeStoreWriter(folder.Path);
        Assert.NotEqual(first.WriterId, second.WriterId);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a/b")]
    [InlineData("a b")]
    [InlineData("..")]
    public void AWriterIdMustBeSafeInAFileName(string id)
    {
        using var folder = new TempFolder();
        Assert.Throws<ArgumentException>(() => new TreeStoreWriter(folder.Path, new TreeStoreWriterOptions { WriterId = id }));
    }

    [Fact]
    public void WritersWithTheSameIdAndStartNeverShareASegment()
    {
        using var folder = new TempFolder();
        var options = new TreeStoreWriterOptions { WriterId = "same", Clock = new ManualClock(Start) };
        using var first = new TreeStoreWriter(folder.Path, options);
        using var second = new TreeStoreWriter(folder.Path, options);
        Assert.NotEqual(first.SegmentPaths[0], second.SegmentPaths[0]);
        first.Append(SampleTrees.Random(1));
        second.Append(SampleTrees.Random(2));
        first.Dispose();
        second.Dispose();
        Assert.Equal(2, ReadKeys(folder.Path).Count);
    }

    [Fact]
    public void TreesAppendedAsAGroupShareOneFlush()
    {
        using var folder = new TempFolder();
        var trees = Trees(1, 4);
        using var writer = new TreeStoreWriter(folder.Path, new TreeStoreWriterOptions { Flush = new FlushPolicy { EveryRecords = 2 } });

        // One at a time, the policy flushes after the second tree and holds the third back; a group of three is
        // flushed whole once its last tree is written.
        writer.Append(trees[0]);
        Assert.Empty(ReadKeys(folder.Path));
        writer.Append(trees.GetRange(1, 3));
        Assert.Equal(trees.Select(StoredBytes.Key), ReadKeys(folder.Path));
    }

    [Fact]
    public void PastTheSizeLimitTheWriterRollsToANewSegmentAndOrderIsKept()
    {
        using var folder = new TempFolder();
        var trees = Trees(1, 7);
        var limit = 2 * (RecordFormat.HeaderSize + TreeSerializer.Serialize(trees[0]).Length);
        var writer = new TreeStoreWriter(folder.Path, new TreeStoreWriterOptions { SegmentSizeLimit = limit });
        foreach (var tree in trees) writer.Append(tree);
        writer.Dispose();

        Assert.True(writer.SegmentPaths.Count >= 3, $"{writer.SegmentPaths.Count} segments");
        Assert.Equal(writer.SegmentPaths, TreeStoreReader.Segments(folder.Path));
        Assert.All(writer.SegmentPaths.SkipLast(1), p => Assert.True(new FileInfo(p).Length >= limit));
        Assert.Equal(trees.Select(StoredBytes.Key), ReadKeys(folder.Path));
    }

    [Fact]
    public void ARollLeavesNoEmptySegmentBehind()
    {
        using var folder = new TempFolder();
        var writer = new TreeStoreWriter(folder.Path, new TreeStoreWriterOptions { SegmentSizeLimit = 1 });
        foreach (var tree in Trees(1, 3)) writer.Append(tree);
        writer.Dispose();
        Assert.Equal(3, writer.SegmentPaths.Count);
        Assert.All(TreeStoreReader.Segments(folder.Path), p => Assert.True(new FileInfo(p).Length > 0));
    }

    [Fact]
    public void ByDefaultEveryRecordIsFlushedAtOnce()
    {
        using var folder = new TempFolder();
        using var writer = new TreeStoreWriter(folder.Path);
        writer.Append(SampleTrees.Random(1));
        Assert.Single(ReadKeys(folder.Path));
    }

    [Fact]
    public void ACountPolicyFlushesEveryNRecords()
    {
        using var folder = new TempFolder();
        using var writer = new TreeStoreWriter(folder.Path, new TreeStoreWriterOptions { Flush = new FlushPolicy { EveryRecords = 3 } });
        writer.Append(SampleTrees.Random(1));
        writer.Append(SampleTrees.Random(2));
        Assert.Empty(ReadKeys(folder.Path));
        writer.Append(SampleTrees.Random(3));
        Assert.Equal(3, ReadKeys(folder.Path).Count);
    }

    [Fact]
    public void AnIntervalPolicyFlushesOnTheFirstAppendAfterTheInterval()
    {
        using var folder = new TempFolder();
        var clock = new ManualClock(Start);
        using var writer = new TreeStoreWriter(folder.Path, new TreeStoreWriterOptions
        {
            Clock = clock,
            Flush = new FlushPolicy { Interval = TimeSpan.FromSeconds(10), ToDisk = true },
        });
        writer.Append(SampleTrees.Random(1));
        clock.Advance(TimeSpan.FromSeconds(9));
        writer.Append(SampleTrees.Random(2));
        Assert.Empty(ReadKeys(folder.Path));
        clock.Advance(TimeSpan.FromSeconds(1));
        writer.Append(SampleTrees.Random(3));
        Assert.Equal(3, ReadKeys(folder.Path).Count);
    }

    [Fact]
    public void ExplicitFlushAndDisposeWriteOutWhatIsBuffered()
    {
        using var folder = new TempFolder();
        var writer = new TreeStoreWriter(folder.Path, new TreeStoreWriterOptions { Flush = new FlushPolicy { EveryRecords = 100 } });
        writer.Append(SampleTrees.Random(1));
        writer.Flush(flushToDisk: true);
        Assert.Single(ReadKeys(folder.Path));
        writer.Append(SampleTrees.Random(2));
        writer.Dispose();
        Assert.Equal(2, ReadKeys(folder.Path).Count);
        Assert.Throws<ObjectDisposedException>(() => writer.Append(SampleTrees.Random(3)));
    }

    [Fact]
    public async Task ConcurrentWritersKeepToTheirOwnSegmentsAndLoseNothing()
    {
        using var folder = new TempFolder();
        const int writers = 4, perWriter = 25;
        var written = await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(() =>
        {
            using var writer = new TreeStoreWriter(folder.Path, new TreeStoreWriterOptions { WriterId = $"w{w}", SegmentSizeLimit = 4096 });
            var trees = Trees(w * 1000, perWriter);
            foreach (var tree in trees) writer.Append(tree);
            return (Segments: writer.SegmentPaths.ToList(), Keys: trees.Select(StoredBytes.Key).ToList());
        })));

        var allSegments = written.SelectMany(w => w.Segments).ToList();
        Assert.Equal(allSegments.Count, allSegments.Distinct().Count());
        var read = ReadKeys(folder.Path);
        Assert.Equal(written.SelectMany(w => w.Keys).Order(), read.Order());
        // Each writer's own records come back in the order it wrote them.
        foreach (var (_, keys) in written)
            Assert.Equal(keys, read.Where(keys.Contains));
    }
}

using System.Buffers.Binary;
using Reasoner.Core.Storage;
using Reasoner.Core.Trees;

namespace Reasoner.Tests.Storage;

/// <summary>A reader must return every intact record, report every damaged one, and never return a wrong tree.</summary>
public class TreeStoreDamageTests
{
    private static readonly DateTimeOffset Start = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static string WriteSegment(string directory, string writerId, IEnumerable<PreferenceTree> trees, TimeSpan startOffset)
    {
        using var writer = new TreeStoreWriter(directory, new TreeStoreWriterOptions
        {
            WriterId = writerId,
            Clock = new ManualClock(Start + startOffset),
        });
        foreach (var tree in trees) writer.Append(tree);
        return Assert.Single(writer.SegmentPaths);
    }

    private static (List<string> Keys, List<StoreDamage> Damage) ReadAll(string directory)
    {
        var damage = new List<StoreDamage>();
        var keys = TreeStoreReader.ReadAll(directory, damage.Add).Select(StoredBytes.Key).ToList();
        return (keys, damage);
    }

    [Fact]
    public void TruncatingTheLastRecordAtEveryByteLosesOnlyThatRecordAndReportsIt()
    {
        using var folder = new TempFolder();
        var directory = folder.Sub("trees");
        var earlier = Enumerable.Range(1, 3).Select(i => SampleTrees.Random(i)).ToList();
        var later = Enumerable.Range(10, 4).Select(i => SampleTrees.Random(i)).ToList();
        WriteSegment(directory, "a", earlier, TimeSpan.Zero);
        var lastSegment = WriteSegment(directory, "b", later, TimeSpan.FromSeconds(1));
        var bytes = File.ReadAllBytes(lastSegment);
        var (lastStart, lastEnd) = StoredBytes.RecordRanges(later)[^1];
        Assert.Equal(lastEnd, bytes.Length);
        var expected = earlier.Concat(later.SkipLast(1)).Select(StoredBytes.Key).ToList();

        for (var cut = lastStart; cut < lastEnd; cut++)
        {
            File.WriteAllBytes(lastSegment, bytes[..(int)cut]);
            var (keys, damage) = ReadAll(directory);
            Assert.Equal(expected, keys);
            if (cut == lastStart)
            {
                Assert.Empty(damage);
                continue;
            }
            var report = Assert.Single(damage);
            Assert.Equal((lastSegment, lastStart), (report.File, report.Offset));
            Assert.StartsWith("truncated", report.Reason);
        }
    }

    [Fact]
    public void FlippedBytesNeverYieldAWrongTreeAndNeverHideAnUntouchedOne()
    {
        using var folder = new TempFolder();
        var directory = folder.Sub("trees");
        var trees = Enumerable.Range(1, 8).Select(i => SampleTrees.Random(i, nodes: 5)).ToList();
        var segment = WriteSegment(directory, "w", trees, TimeSpan.Zero);
        var pristine = File.ReadAllBytes(segment);
        var ranges = StoredBytes.RecordRanges(trees);
        var originalKeys = trees.Select(StoredBytes.Key).ToList();
        var random = new Random(20250301);

        for (var trial = 0; trial < 400; trial++)
        {
            var damaged = (byte[])pristine.Clone();
            var positions = new HashSet<long>();
            var flips = random.Next(1, 5);
            while (positions.Count < flips)
            {
                // Half the flips hit a header (magic, length, CRC), where damage is hardest to recover from.
                positions.Add(random.Next(2) == 0
                    ? ranges[random.Next(ranges.Count)].Start + random.Next(RecordFormat.HeaderSize)
                    : random.NextInt64(damaged.Length));
            }
            foreach (var position in positions)
                damaged[position] ^= (byte)random.Next(1, 256);
            File.WriteAllBytes(segment, damaged);

            var (keys, damage) = ReadAll(directory);

            Assert.All(keys, key => Assert.Contains(key, originalKeys));
            Assert.Equal(keys.Count, keys.Distinct().Count());
            for (var i = 0; i < trees.Count; i++)
            {
                var (start, end) = ranges[i];
                if (!positions.Any(p => p >= start && p < end))
                    Assert.Contains(originalKeys[i], keys);
            }
            Assert.NotEmpty(damage);
            Assert.True(keys.Count < trees.Count);
        }
    }

    [Theory]
    [InlineData(0x7FFF_FFFFu)]
    [InlineData(5u)]
    [InlineData(0u)]
    public void ACorruptLengthLosesOnlyItsRecord(uint corruptLength)
    {
        using var folder = new TempFolder();
        var directory = folder.Sub("trees");
        var trees = Enumerable.Range(1, 4).Select(i => SampleTrees.Random(i)).ToList();
        var segment = WriteSegment(directory, "w", trees, TimeSpan.Zero);
        var bytes = File.ReadAllBytes(segment);
        var second = StoredBytes.RecordRanges(trees)[1];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan((int)second.Start + 4), corruptLength);
        File.WriteAllBytes(segment, bytes);

        var (keys, damage) = ReadAll(directory);

        Assert.Equal(trees.Where((_, i) => i != 1).Select(StoredBytes.Key), keys);
        Assert.Equal(second.Start, Assert.Single(damage).Offset);
    }

    [Fact]
    public void GarbageBeforeAndBetweenRecordsIsReportedAndSkipped()
    {
        using var folder = new TempFolder();
        var directory = folder.Sub("trees");
        var trees = Enumerable.Range(1, 3).Select(i => SampleTrees.Random(i)).ToList();
        var segment = WriteSegment(directory, "w", trees, TimeSpan.Zero);
        var bytes = File.ReadAllBytes(segment);
        var split = (int)StoredBytes.RecordRanges(trees)[1].Start;
        byte[] junk = [.. "junk"u8, 0xC1, (byte)'T', (byte)'R', (byte)'1', 1, 2];
        File.WriteAllBytes(segment, [.. junk, .. bytes[..split], .. junk, .. bytes[split..]]);

        var (keys, damage) = ReadAll(directory);

        Assert.Equal(trees.Select(StoredBytes.Key), keys);
        // A junk run holds a false magic too: the run start, then the false magic, are each reported.
        Assert.Equal([0L, 4L, junk.Length + split, junk.Length + split + 4L], damage.Select(d => d.Offset));
        Assert.Equal("no record magic", damage[0].Reason);
    }

    [Fact]
    public void AFrameWithAValidCrcButNoTreeIsReportedAndTheNextRecordIsRead()
    {
        using var folder = new TempFolder();
        var directory = folder.Sub("trees");
        var tree = SampleTrees.Random(3);
        var segment = WriteSegment(directory, "w", [tree], TimeSpan.Zero);
        var notATree = "not a tree"u8.ToArray();
        var header = new byte[RecordFormat.HeaderSize];
        RecordFormat.WriteHeader(header, notATree);
        File.WriteAllBytes(segment, [.. header, .. notATree, .. File.ReadAllBytes(segment)]);

        var (keys, damage) = ReadAll(directory);

        Assert.Equal([StoredBytes.Key(tree)], keys);
        var report = Assert.Single(damage);
        Assert.Equal(0, report.Offset);
        Assert.StartsWith("payload does not deserialize", report.Reason);
    }

    [Fact]
    public void AMissingFolderOrEmptySegmentHoldsNoTrees()
    {
        using var folder = new TempFolder();
        Assert.Empty(ReadAll(folder.Sub("absent")).Keys);
        var directory = folder.Sub("trees");
        new TreeStoreWriter(directory).Dispose();
        var (keys, damage) = ReadAll(directory);
        Assert.Empty(keys);
        Assert.Empty(damage);
    }
}

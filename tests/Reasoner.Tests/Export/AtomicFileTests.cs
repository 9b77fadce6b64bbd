using Reasoner.Core.Export;
using Reasoner.Tests.Storage;

namespace Reasoner.Tests.Export;

public class AtomicFileTests
{
    [Fact]
    public void WritesTheWholeFileAndLeavesNoTemporaryFile()
    {
        using var folder = new TempFolder();
        var path = Path.Combine(folder.Path, "out", "pairs.jsonl");
        var counts = AtomicFile.Write(path, s => TrlPreferenceExport.Write([SampleTrees.Arithmetic()], s, new TrlPreferenceOptions()));
        Assert.Equal(4, counts.Lines);
        Assert.Equal(4, File.ReadAllLines(path).Length);
        Assert.Equal([path], Directory.GetFiles(Path.GetDirectoryName(path)!));
    }

    [Fact]
    public void AFailedWriteLeavesTheOldFileAndNoTemporaryFile()
    {
        using var folder = new TempFolder();
        var path = Path.Combine(folder.Path, "pairs.jsonl");
        File.WriteAllText(path, "old\n");
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write<int>(path, s =>
        {
            s.Write("half a li"u8);
            throw new InvalidOperationException("export failed");
        }));
        Assert.Equal("old\n", File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFiles(folder.Path));
    }

    [Fact]
    public void ASuccessfulWriteReplacesTheOldFile()
    {
        using var folder = new TempFolder();
        var path = Path.Combine(folder.Path, "trees.jsonl");
        File.WriteAllText(path, "old\n");
        AtomicFile.Write(path, s => TreeJsonlExport.Write([SampleTrees.Empty()], s));
        Assert.StartsWith("{\"schemaVersion\":1,", File.ReadAllText(path));
    }
}

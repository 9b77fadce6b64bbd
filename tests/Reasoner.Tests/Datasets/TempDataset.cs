namespace Reasoner.Tests.Datasets;

/// <summary>A dataset file in a fresh temporary folder, deleted on dispose.</summary>
internal sealed class TempDataset : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("reasoner-datasets-").FullName;

    public TempDataset(string fileName, params string[] lines)
    {
        Path = System.IO.Path.Combine(_folder, fileName);
        File.WriteAllLines(Path, lines);
    }

    public string Path { get; }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}

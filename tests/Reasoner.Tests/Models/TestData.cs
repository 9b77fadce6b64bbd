namespace Reasoner.Tests.Models;

internal static class TestData
{
    /// <summary>The shared data folder sits beside the repository (../shared from the repo root).</summary>
    public static string SharedDirectory { get; } = FindShared();

    public static string Qwen3TokenizerDirectory => Path.Combine(SharedDirectory, "data", "tokenizers", "qwen3");

    private static string FindShared()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "data");
            if (Directory.Exists(candidate)) return Path.Combine(dir.FullName, "shared");
        }
        throw new DirectoryNotFoundException($"no shared/data folder above {AppContext.BaseDirectory}");
    }

    /// <summary>A fresh temporary folder, deleted when disposed.</summary>
    public sealed class TempDirectory : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("reasoner-test-").FullName;
        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}

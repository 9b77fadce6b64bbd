namespace Reasoner.Tests;

/// <summary>Locates the read-only dataset samples in <c>&lt;repo&gt;/../shared/data</c>.</summary>
public static class SharedData
{
    /// <summary>The path of <paramref name="parts"/> under shared/data, found by walking up from the test binaries.</summary>
    public static string Path(params string[] parts)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string data = System.IO.Path.Combine(dir.FullName, "shared", "data");
            if (Directory.Exists(data)) return System.IO.Path.Combine([data, .. parts]);
        }
        throw new DirectoryNotFoundException($"No shared/data above {AppContext.BaseDirectory}");
    }
}

namespace Reasoner.Tests;

/// <summary>Locates the read-only shared data folder, which sits beside the repository root and is never copied into it.</summary>
public static class SharedData
{
    public static string Path(params string[] parts)
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(System.IO.Path.Combine(root.FullName, "Reasoner.sln")))
            root = root.Parent;
        if (root is null) throw new DirectoryNotFoundException($"no folder above {AppContext.BaseDirectory} holds Reasoner.sln");
        return System.IO.Path.GetFullPath(System.IO.Path.Combine([root.FullName, "..", "shared", "data", .. parts]));
    }
}

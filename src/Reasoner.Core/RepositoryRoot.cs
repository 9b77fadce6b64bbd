namespace Reasoner.Core;

/// <summary>
/// The checkout Reasoner runs from: the first folder holding Reasoner.sln above the application's folder, else
/// above the current directory. Files that ship with the repository (the built-in model, and beside it
/// ../shared/data) are found from here, so commands work from any working folder inside a clone.
/// </summary>
public static class RepositoryRoot
{
    public const string SolutionFile = "Reasoner.sln";

    public static string? TryFind()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, SolutionFile))) return dir.FullName;
        return null;
    }
}

namespace Reasoner.Models.Checkpoints;

/// <summary>The default model committed with the repository at <c>models/builtin/</c>.</summary>
public static class BuiltinModel
{
    public const string RelativePath = "models/builtin";

    /// <summary>
    /// <c>models/builtin</c> of the repository: the first folder holding Reasoner.sln found walking up from the
    /// application's folder, then from the current directory.
    /// </summary>
    public static string Locate()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
            for (var folder = new DirectoryInfo(start); folder is not null; folder = folder.Parent)
                if (File.Exists(Path.Combine(folder.FullName, "Reasoner.sln")))
                {
                    var model = Path.Combine(folder.FullName, RelativePath);
                    if (File.Exists(Path.Combine(model, CheckpointFiles.Config))) return model;
                }
        throw new DirectoryNotFoundException(
            $"no built-in model ({RelativePath}/{CheckpointFiles.Config}) in a repository above {AppContext.BaseDirectory} or {Directory.GetCurrentDirectory()}");
    }
}

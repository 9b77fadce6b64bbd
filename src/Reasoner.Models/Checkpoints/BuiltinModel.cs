namespace Reasoner.Models.Checkpoints;

/// <summary>The default model committed with the repository at <c>models/builtin/</c>.</summary>
public static class BuiltinModel
{
    public const string RelativePath = "models/builtin";

    /// <summary>
    /// <c>models/builtin</c> of the repository: the repository found by <see cref="Core.RepositoryRoot"/>.
    /// </summary>
    public static string Locate()
    {
        if (Core.RepositoryRoot.TryFind() is { } root && File.Exists(Path.Combine(root, RelativePath, CheckpointFiles.Config)))
            return Path.Combine(root, RelativePath);
        throw new DirectoryNotFoundException(
            $"no built-in model ({RelativePath}/{CheckpointFiles.Config}) in a repository above {AppContext.BaseDirectory} or {Directory.GetCurrentDirectory()}");
    }
}

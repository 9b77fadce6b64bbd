using Reasoner.Models;
using Reasoner.Models.Backends;

namespace Reasoner.Training.Framework;

/// <summary>Which model on-policy training starts from: the one that searched the data.</summary>
public static class OnPolicyModel
{
    /// <summary>
    /// The model folder the runs' trees were searched with; null when only the weight-free reference policy searched them.
    /// Trees of several models, or of a model that is not a folder here (an HTTP server, a GGUF file, a folder since
    /// moved), have no one answer (a <see cref="TrainingRunException"/>): training another model would be off-policy,
    /// so the caller must name the policy.
    /// </summary>
    public static string? Of(IEnumerable<string> treeModelIds)
    {
        // The reference-solution test backend has no weights to train; anything else must be a model folder here.
        var ids = treeModelIds.Distinct(StringComparer.Ordinal).Where(id => ReferenceSolutionModel.ParseSpec(id) is null).ToList();
        if (ids.FirstOrDefault(id => !File.Exists(Path.Combine(id, "config.json")) && !(Directory.Exists(id) && LoraAdapters.IsAdapterFolder(id))) is { } other)
            throw new TrainingRunException($"the runs were searched with '{other}', which is not a model folder here: name the policy to train", TrainingRunConflict.AmbiguousModel);
        var folders = ids.Select(id => Path.TrimEndingDirectorySeparator(Path.GetFullPath(id)))
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        return folders.Count switch
        {
            0 => null,
            1 => folders[0],
            _ => throw new TrainingRunException($"the runs were searched with {folders.Count} models ({string.Join(", ", folders)}): name the policy to train", TrainingRunConflict.AmbiguousModel),
        };
    }
}

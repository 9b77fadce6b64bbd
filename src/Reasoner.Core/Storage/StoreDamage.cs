namespace Reasoner.Core.Storage;

/// <summary>A stretch of a segment that held no readable record, starting at <paramref name="Offset"/>.</summary>
public sealed record StoreDamage(string File, long Offset, string Reason);

namespace Reasoner.Core.Export;

/// <summary>
/// Writes a file so that readers see either the old file or the whole new one: the content goes to a
/// temporary file in the same folder (a rename is only atomic within one file system), is fsynced, and
/// then renamed over the target. If writing throws, the temporary file is removed and the target is untouched.
/// </summary>
public static class AtomicFile
{
    public static T Write<T>(string path, Func<Stream, T> write)
    {
        var fullPath = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(fullPath)!);
        var temporary = $"{fullPath}.{Guid.NewGuid():N}.tmp";
        try
        {
            T result;
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024))
            {
                result = write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, fullPath, overwrite: true);
            return result;
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }
}

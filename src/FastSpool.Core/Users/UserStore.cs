using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace FastSpool.Users;

/// <summary>The mail users, kept in <c>&lt;dataDirectory&gt;/users</c>: one <c>name:hash</c> per line, <c>#</c>
/// comments. An empty hash is a user that receives mail but cannot log in. Readers see an immutable snapshot that is
/// reloaded when the file changes; writers serialise on <c>users.lock</c> across processes and replace the file
/// atomically, keeping comments and other lines as they were.</summary>
public sealed class UserStore
{
    public const string FileName = "users";

    private const string Header = "# FastSpool users: one name:password-hash per line; an empty hash only receives mail.\n";
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(10);

    private readonly ReloadingFile<NameTable<string>> _file;
    private readonly string _lockPath;
    private readonly string _temporaryPath;
    private readonly Lock _writeLock = new();

    /// <exception cref="IOException">The users file exists but cannot be read.</exception>
    public UserStore(string dataDirectory)
        : this(dataDirectory, ReloadingFile<NameTable<string>>.DefaultCheckInterval)
    {
    }

    internal UserStore(string dataDirectory, TimeSpan checkInterval)
    {
        string path = Path.GetFullPath(Path.Combine(dataDirectory, FileName));
        _lockPath = path + ".lock";
        _temporaryPath = path + ".tmp";
        _file = new ReloadingFile<NameTable<string>>(path, Parse, checkInterval);
    }

    public string FilePath => _file.Path;

    /// <summary>Lines of the file that were ignored, with line numbers.</summary>
    public IReadOnlyList<string> Warnings => _file.Value.Warnings;

    /// <summary>ASCII case-insensitive; does not allocate.</summary>
    public bool Contains(ReadOnlySpan<byte> localPartUtf8) => _file.Value.Contains(localPartUtf8);

    public bool Contains(ReadOnlySpan<char> name) => _file.Value.Contains(name);

    /// <summary>The snapshot now in use; another instance once the file was read again.</summary>
    internal object Snapshot => _file.Value;

    /// <summary>The stored hash of a user who has a password; false for unknown users and for users who only
    /// receive mail.</summary>
    public bool TryGetPasswordHash(string name, [MaybeNullWhen(false)] out string hash)
    {
        if (_file.Value.TryGetValue(name, out string? stored) && stored.Length > 0)
        {
            hash = stored;
            return true;
        }
        hash = null;
        return false;
    }

    /// <summary>The user names, lowercase, in ordinal order.</summary>
    public IReadOnlyList<string> List() => _file.Value.Names;

    /// <summary>Reads the file now instead of at the next check.</summary>
    public void Refresh() => _file.Refresh();

    /// <summary>Reads the file when it changed since the last check, whenever that was: a user added by
    /// <c>fastspool user add</c> a moment ago.</summary>
    internal void CheckNow() => _file.CheckNow();

    /// <summary>Adds a user; a null or empty hash makes a user that only receives mail.</summary>
    /// <returns>False when the user already exists.</returns>
    /// <exception cref="ArgumentException">The name is not a valid <see cref="UserName"/>, or the hash contains
    /// a colon or white space.</exception>
    /// <exception cref="IOException">The file could not be read or replaced.</exception>
    /// <exception cref="TimeoutException">Another process held <c>users.lock</c> too long.</exception>
    public bool Add(string name, string? passwordHash) =>
        Rewrite(RequireName(name), Change.Add, RequireHash(passwordHash));

    /// <returns>False when there is no such user.</returns>
    public bool Remove(string name) => Rewrite(RequireName(name), Change.Remove, "");

    /// <summary>Replaces a user's hash; a null or empty hash removes the password.</summary>
    /// <returns>False when there is no such user.</returns>
    public bool SetPassword(string name, string? passwordHash) =>
        Rewrite(RequireName(name), Change.SetPassword, RequireHash(passwordHash));

    private bool Rewrite(string user, Change change, string hash)
    {
        using (_writeLock.EnterScope())
        using (FileLock.Acquire(_lockPath, LockTimeout))
        {
            string? text = ReadOrNull(FilePath);
            var output = new StringBuilder((text?.Length ?? Header.Length) + 128);
            if (string.IsNullOrEmpty(text))
                output.Append(Header);
            bool found = false;
            // An empty span still enumerates as one empty line; an empty file has none.
            ReadOnlySpan<char> lines = WithoutFinalNewline(text);
            foreach (ReadOnlySpan<char> line in lines.IsEmpty ? default : lines.EnumerateLines())
            {
                if (TryReadEntry(line, out ReadOnlySpan<char> name, out _) && name.Equals(user, StringComparison.OrdinalIgnoreCase))
                {
                    bool first = !found;
                    found = true;
                    if (change == Change.Remove || (change == Change.SetPassword && !first))
                        continue;
                    if (change == Change.SetPassword)
                    {
                        AppendEntry(output, user, hash);
                        continue;
                    }
                }
                output.Append(line).Append('\n');
            }

            if (change == Change.Add)
            {
                if (found)
                    return false;
                AppendEntry(output, user, hash);
            }
            else if (!found)
            {
                return false;
            }

            AtomicFile.Replace(FilePath, _temporaryPath, output.ToString());
            _file.Refresh();
            return true;
        }
    }

    private static NameTable<string> Parse(string? text)
    {
        if (string.IsNullOrEmpty(text))
            return NameTable<string>.Empty;
        var entries = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var warnings = new List<string>();
        int lineNumber = 0;
        foreach (ReadOnlySpan<char> line in text.AsSpan().EnumerateLines())
        {
            lineNumber++;
            if (!TryReadEntry(line, out ReadOnlySpan<char> name, out ReadOnlySpan<char> hash))
                continue;
            if (!UserName.TryNormalize(name, out string? user))
                warnings.Add($"{FileName} line {lineNumber}: invalid user name '{name}'; ignored");
            else if (!entries.TryAdd(user, hash.ToString()))
                warnings.Add($"{FileName} line {lineNumber}: duplicate user '{user}'; the first entry counts");
        }
        return new NameTable<string>(entries, warnings);
    }

    /// <summary>Splits <c>name:hash</c>; a line without a colon is a user without a password. False for blank
    /// and comment lines.</summary>
    private static bool TryReadEntry(ReadOnlySpan<char> line, out ReadOnlySpan<char> name, out ReadOnlySpan<char> hash)
    {
        line = line.Trim();
        if (line.IsEmpty || line[0] == '#')
        {
            name = hash = default;
            return false;
        }
        int colon = line.IndexOf(':');
        name = colon < 0 ? line : line[..colon].TrimEnd();
        hash = colon < 0 ? default : line[(colon + 1)..].TrimStart();
        return true;
    }

    private static void AppendEntry(StringBuilder output, string user, string hash) =>
        output.Append(user).Append(':').Append(hash).Append('\n');

    private static ReadOnlySpan<char> WithoutFinalNewline(string? text)
    {
        ReadOnlySpan<char> span = text;
        if (span.EndsWith('\n'))
            span = span[..^1];
        if (span.EndsWith('\r'))
            span = span[..^1];
        return span;
    }

    private static string? ReadOrNull(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    private static string RequireName(string name) =>
        UserName.TryNormalize(name, out string? user)
            ? user
            : throw new ArgumentException($"invalid user name '{name}'", nameof(name));

    private static string RequireHash(string? passwordHash)
    {
        if (string.IsNullOrEmpty(passwordHash))
            return "";
        foreach (char c in passwordHash)
        {
            if (c == ':' || char.IsWhiteSpace(c))
                throw new ArgumentException("a password hash may not contain a colon or white space", nameof(passwordHash));
        }
        return passwordHash;
    }

    private enum Change
    {
        Add,
        Remove,
        SetPassword,
    }
}

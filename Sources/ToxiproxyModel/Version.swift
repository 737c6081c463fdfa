/// Version facts of the reference server this implementation follows.
public enum ToxiproxyVersion {
    /// The Toxiproxy release whose wire behaviour is matched; reported by `GET /version`.
    public static let compatible = "2.12.0"
}

// The first bytes a database sends, as the probe's tests need them (no full server).

/** A MySQL packet: 3-byte little-endian length, sequence id, payload. */
export function mysqlPacket(payload: Buffer, sequence = 0): Buffer {
  const header = Buffer.alloc(4);
  header.writeUIntLE(payload.length, 0, 3);
  header[3] = sequence;
  return Buffer.concat([header, payload]);
}

/** The start of a protocol v10 handshake (what MySQL 8 and MariaDB send on connect). */
export function mysqlGreeting(version = '8.0.39'): Buffer {
  const rest = Buffer.alloc(40, 0x41); // connection id, auth data, capabilities...: not read
  return mysqlPacket(Buffer.concat([Buffer.from([0x0a]), Buffer.from(version, 'latin1'), Buffer.from([0]), rest]));
}

/** A MySQL error packet sent instead of the greeting (no SQL state: as the server does before the handshake). */
export function mysqlError(code: number, message: string): Buffer {
  const head = Buffer.alloc(3);
  head[0] = 0xff;
  head.writeUInt16LE(code, 1);
  return mysqlPacket(Buffer.concat([head, Buffer.from(message, 'utf8')]));
}

export const HOST_BLOCKED_MESSAGE = "Host '10.0.1.17' is blocked because of many connection errors; unblock with 'mariadb-admin flush-hosts'";

/** A PostgreSQL ErrorResponse with a SQL state and message. */
export function postgresError(sqlState: string, message: string): Buffer {
  const fields = Buffer.from(`SFATAL\0C${sqlState}\0M${message}\0\0`, 'utf8');
  const head = Buffer.alloc(5);
  head[0] = 0x45;
  head.writeInt32BE(4 + fields.length, 1);
  return Buffer.concat([head, fields]);
}
